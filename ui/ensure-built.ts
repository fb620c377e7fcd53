/**
 * Builds the UI when ui/dist is missing or older than its sources; does nothing otherwise.
 * Run by `npm start` and by the browser tests, so a fresh clone and an edited UI both serve
 * what the sources say. `--force` builds regardless.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Vite from 'vite';

const repo = fileURLToPath(new URL('..', import.meta.url));
const ui = join(repo, 'ui');
const builtIndex = join(ui, 'dist', 'index.html');
/** What the build reads: the app, its config, the shared core (validation) and the examples. */
const INPUTS = [
  'ui/index.html',
  'ui/vite.config.ts',
  'ui/precompiled-validator.ts',
  'ui/src',
  'src/core',
  'examples',
];

function newest(path: string): number {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** Why the UI needs building, or undefined when ui/dist is current. */
export function staleness(): string | undefined {
  const built = newest(builtIndex);
  if (built === 0) return 'ui/dist is missing';
  const changed = INPUTS.find((input) => newest(join(repo, input)) > built);
  return changed === undefined ? undefined : `${changed} changed since the last build`;
}

export async function ensureBuilt(
  options: { force?: boolean; quiet?: boolean } = {},
): Promise<void> {
  const reason = options.force ? 'forced' : staleness();
  if (reason === undefined) return;
  let vite: typeof Vite;
  try {
    vite = await import('vite');
  } catch {
    process.stderr.write(
      `chainr: the UI needs building (${reason}) but vite is not installed (npm ci installs it); ` +
        'the API works without it\n',
    );
    return;
  }
  if (!options.quiet) process.stderr.write(`chainr: building the UI (${reason})…\n`);
  await vite.build({
    configFile: join(ui, 'vite.config.ts'),
    logLevel: options.quiet ? 'error' : 'warn',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureBuilt({ force: process.argv.includes('--force') });
}
