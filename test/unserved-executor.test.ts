/**
 * A job for an executor that no live worker serves (`executor: container`, workers serving only
 * local and noop) does not wait silently: validating it against the server and submitting it
 * warn, the API gives its PENDING reason, and `chainr runs get` and `chainr watch` show it.
 */
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { cliTestbed, runChainr } from './fixtures/cli.ts';
import { spawnChainr } from './fixtures/processes.ts';

const testbed = cliTestbed('cli-unserved');
const CAUSE = 'no live worker serves the "container" executor (live workers serve: local, noop)';

it('warns at submission, and the API, runs get and watch give the reason the job waits', async () => {
  const file = testbed.path('container.yaml');
  writeFileSync(
    file,
    'kind: Pipeline\njobs:\n  build: { image: busybox, run: "true", executor: container }\n',
  );
  const env = { CHAINR_SERVER: testbed.url() };
  // Offline unless asked; asked, it warns and the file stays valid.
  const offline = await runChainr(['validate', '-f', file], env);
  expect(offline).toMatchObject({ code: 0, stderr: '' });
  const validated = await runChainr(['validate', '-f', file, '--server', testbed.url()], env);
  expect(validated.code).toBe(0);
  expect(validated.stderr).toContain(`${file}: warning: job build: ${CAUSE}`);

  const submitted = await runChainr(['submit', '-f', file], env);
  expect(submitted.code).toBe(0);
  expect(submitted.stderr).toContain(`warning: job build: ${CAUSE}`);
  const uid = /run (\S+) submitted/.exec(submitted.stdout)?.[1] ?? '';

  const run = (await (await fetch(`${testbed.url()}/api/runs/${uid}`)).json()) as {
    jobs: { name: string; status: string; reason?: string }[];
  };
  expect(run.jobs).toMatchObject([
    { name: 'build', status: 'PENDING', reason: `waiting for a worker: ${CAUSE}` },
  ]);

  const shown = await runChainr(['runs', 'get', uid], env);
  expect(shown.stdout).toContain(`waiting for a worker: ${CAUSE}`);

  // Not a terminal: the watch says at once where the job stands and why, then keeps following.
  const watch = spawnChainr(['watch', uid], env);
  try {
    const deadline = Date.now() + 30_000;
    while (!watch.output().includes(`job build PENDING: waiting for a worker: ${CAUSE}`)) {
      if (Date.now() > deadline) throw new Error(`watch printed:\n${watch.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await watch.kill('SIGINT');
  }
}, 120_000);
