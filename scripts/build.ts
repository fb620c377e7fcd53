/**
 * `npm run build`: compiles src/ to JavaScript in dist/ (tsconfig.build.json) with the files the
 * code reads beside itself (the Lua scripts), so that the image and the package start without
 * compiling TypeScript. `--out-dir DIR` builds elsewhere (the tests do).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const flag = process.argv.indexOf('--out-dir');
const outDir = resolve(flag >= 0 ? (process.argv[flag + 1] ?? '') : join(ROOT, 'dist'));

rmSync(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(
  process.execPath,
  [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir],
  { stdio: 'inherit' },
);
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
cpSync(join(ROOT, 'src/store/lua'), join(outDir, 'store/lua'), { recursive: true });
