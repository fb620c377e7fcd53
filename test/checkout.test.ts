/**
 * A fresh clone of the repository, used as the README says: `npm link` puts `chainr` on the PATH,
 * and without it `npx chainr` works from the checkout and the commands chainr suggests are printed
 * in that form.
 */
import { execFile } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { cliTestbed } from './fixtures/cli.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const testbed = cliTestbed('checkout');
// Each step starts npm and chainr processes from a checkout (8 s in all when idle; over 60 s once
// in CI beside the chaos tests): a limit for a loaded machine, not a timing.
vi.setConfig({ testTimeout: 240_000 });

let clone: string;
let env: NodeJS.ProcessEnv;

/** A command in the clone's shell environment: its exit code and what it printed. */
async function sh(command: string, cwd = clone) {
  try {
    const { stdout, stderr } = await run('sh', ['-c', command], { cwd, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  clone = testbed.path('chainr');
  await run('git', ['clone', '--quiet', ROOT, clone]);
  // `npm ci` as the README says, but from this checkout's packages: the tests run offline.
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  // npm's global folder in the scratch folder, so that `npm link` leaves the machine as it was
  const prefix = testbed.path('npm-global');
  env = {
    ...process.env,
    // as typed in a shell, not as run by the test runner's npx
    npm_command: undefined,
    npm_lifecycle_script: undefined,
    npm_config_prefix: prefix,
    PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
    CHAINR_SERVER: testbed.url(),
    LOG_LEVEL: 'warn',
  };
  for (const name of ['a', 'b']) {
    writeFileSync(
      testbed.path(`${name}.yaml`),
      `kind: Pipeline\njobs:\n  ${name}: { image: busybox, run: 'true' }\n`,
    );
  }
}, 120_000);

describe('a fresh clone', () => {
  it('has no chainr on the PATH before `npm link`; npx chainr works and its hints say npx chainr', async () => {
    expect((await sh('command -v chainr')).code).not.toBe(0);
    for (const name of ['a', 'b']) {
      const submitted = await sh(`npx chainr submit -f ${testbed.path(`${name}.yaml`)} --watch`);
      expect(submitted.code, submitted.stderr).toBe(0);
    }
    const { code, stderr } = await sh('npx chainr runs list --limit 1');
    expect(code).toBe(0);
    expect(stderr).toMatch(/^more: npx chainr runs list --limit 1 --continue \S+$/m);
  });

  it("gets chainr on the PATH with the README's `npm link`, from any folder", async () => {
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    expect(readme).toMatch(/`npm link`/);
    const linked = await sh('npm link --no-audit --no-fund --offline');
    expect(linked.code, linked.stderr).toBe(0);
    const elsewhere = testbed.path('');
    const version = await sh('chainr --version', elsewhere);
    expect(version.stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    );
    const listed = await sh('chainr runs list --limit 1', elsewhere);
    expect(listed.stderr).toMatch(/^more: chainr runs list --limit 1 --continue \S+$/m);
    const completion = await sh('chainr completion bash', elsewhere);
    expect(completion.stdout).toMatch(/complete .*chainr/);
  });
});
