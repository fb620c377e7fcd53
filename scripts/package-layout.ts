/**
 * The npm package's layout, as it is installed, from this checkout: bin/, dist/ (the compiled
 * JavaScript, built by scripts/build.ts), package.json and the dependencies, without the
 * sources and without tsx, so that what runs from it needs no TypeScript loader. Used by the
 * package test and by the bench's time-to-ready.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Builds the layout into `dir` (an empty directory); throws with the compiler's output if it fails. */
export function layOutPackage(dir: string): void {
  const built = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
      'scripts/build.ts',
      '--out-dir',
      join(dir, 'dist'),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (built.status !== 0) throw new Error(`the build failed:\n${built.stdout}${built.stderr}`);
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin/chainr.js'), join(dir, 'bin/chainr.js'));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'tsx' || name.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
}
