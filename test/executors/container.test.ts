/**
 * The container executor beyond the conformance suite: its configuration, an image that cannot
 * be had, and what cancel and shutdown leave behind. With podman; skipped where it is missing.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { containerName } from '../../src/executors/container/args.ts';
import { detectEngine, engineSpawner } from '../../src/executors/container/engine.ts';
import {
  ContainerExecutor,
  WORKER_SHUTDOWN_REASON,
} from '../../src/executors/container/executor.ts';
import type { ExecutionRequest } from '../../src/executors/executor.ts';
import { RunDirectories } from '../../src/executors/workspaces.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-store.ts';
import { JobArtifacts } from '../../src/artifacts/transfer.ts';
import { podmanAvailable, startPodman, type TestEngine } from './podman.ts';

describe('container executor configuration', () => {
  it('is on unless CHAINR_CONTAINER=0, and required when asked for', () => {
    expect(loadConfig({}).container).toEqual({
      explicit: false,
      engine: undefined,
      stopGraceSeconds: 10,
      network: false,
    });
    expect(loadConfig({ CHAINR_CONTAINER: '0' }).container).toBeUndefined();
    expect(loadConfig({ CHAINR_CONTAINER_ENGINE: 'docker' }).container).toMatchObject({
      explicit: true,
      engine: 'docker',
    });
    expect(
      loadConfig({ CHAINR_EXECUTOR: 'container', CHAINR_CONTAINER_STOP_GRACE: '3s' }).container,
    ).toMatchObject({ explicit: true, stopGraceSeconds: 3 });
  });

  it('uses only an engine that answers', () => {
    expect(detectEngine('no-such-engine-here')).toBeUndefined();
  });
});

const available = podmanAvailable();
let engine: TestEngine | undefined;
beforeAll(() => {
  if (available) engine = startPodman();
}, 120_000);
afterAll(() => engine?.stop());

/** The container's state, or nothing when it does not exist. */
function containers(name: string): string[] {
  const r = spawnSync('podman', ['container', 'inspect', '--format', '{{.State.Status}}', name], {
    env: engine?.env(),
    encoding: 'utf8',
  });
  return r.status === 0 ? [r.stdout.trim()] : [];
}

function request(run: string, image = 'localhost/busybox'): ExecutionRequest {
  return { uid: randomUUID(), job: 'job', attempt: 1, image, run, env: {} };
}

describe.skipIf(!available)('container executor with podman', () => {
  const executor = () =>
    new ContainerExecutor({
      engine: 'podman',
      ...(engine && { workRoot: engine.workRoot }),
      stopGraceSeconds: 1,
      spawn: engineSpawner('podman', engine?.env()),
    });

  it('stops a container whose start is slow: the timeout comes while it is still being created', async () => {
    const direct = engineSpawner('podman', engine?.env());
    // `podman stop` on a container not started yet succeeds and does nothing: the start after it
    // would run the job to its end.
    const slowStart = engineSpawner('sh', engine?.env());
    const slow = new ContainerExecutor({
      engine: 'podman',
      ...(engine && { workRoot: engine.workRoot }),
      stopGraceSeconds: 1,
      spawn: (args, env) =>
        args[0] === 'start'
          ? slowStart(['-c', 'sleep 2; exec podman "$@"', 'sh', ...args], env)
          : direct(args, env),
    });
    const startedAt = Date.now();
    const result = await slow.run(
      { ...request('echo started; sleep 60; echo finished'), timeoutMs: 500 },
      { onLog: () => undefined, signal: new AbortController().signal },
    );
    expect(result).toEqual({ status: 'FAILED', exitCode: null, reason: 'timed out after 500ms' });
    expect(Date.now() - startedAt).toBeLessThan(30_000);
  }, 90_000);

  it("bind-mounts the run's workspace at the same path: a file written by one job is read by the next; read-only refuses writes", async () => {
    const root = mkdtempSync(join(tmpdir(), 'chainr-container-workspaces-'));
    try {
      const workspaces = new RunDirectories(root);
      const withWorkspaces = new ContainerExecutor({
        engine: 'podman',
        ...(engine && { workRoot: engine.workRoot }),
        stopGraceSeconds: 1,
        spawn: engineSpawner('podman', engine?.env()),
        workspaces,
      });
      const uid = randomUUID();
      const lines: string[] = [];
      const io = { onLog: (l: string) => lines.push(l), signal: new AbortController().signal };
      const extract = await withWorkspaces.run(
        {
          ...request('echo "ws=$CHAINR_WORKSPACE"; echo "a,1" > "$CHAINR_WORKSPACE/rows.csv"'),
          uid,
          job: 'extract',
          workspace: { readOnly: false },
        },
        io,
      );
      expect(extract.status).toBe('SUCCESSFUL');
      expect(lines).toEqual([`ws=${workspaces.pathOf(uid)}`]);
      expect(readFileSync(join(workspaces.pathOf(uid), 'rows.csv'), 'utf8')).toBe('a,1\n');
      const report = await withWorkspaces.run(
        {
          ...request('cat "$CHAINR_WORKSPACE/rows.csv"; echo x > "$CHAINR_WORKSPACE/more"'),
          uid,
          job: 'report',
          workspace: { readOnly: true },
        },
        io,
      );
      expect(report).toMatchObject({ status: 'FAILED', exitCode: 1 });
      expect(lines.slice(1)).toEqual([
        'a,1',
        expect.stringMatching(/Read-only file system/) as string,
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('moves artifacts: inputs placed at $CHAINR_ARTIFACTS, declared paths copied out and stored', async () => {
    const root = mkdtempSync(join(tmpdir(), 'chainr-container-artifacts-'));
    try {
      const store = new FilesystemArtifactStore(root);
      const limits = { perArtifact: 1024 ** 2, perRun: 1024 ** 2 };
      let used = 0; // the run's count of stored bytes, which Redis keeps in a deployment
      const runBytes = {
        used: () => Promise.resolve(used),
        add: (_: string, d: number) => Promise.resolve((used += d)),
      };
      const uid = randomUUID();
      const lines: string[] = [];
      const io = (artifacts: JobArtifacts) => ({
        onLog: (l: string) => lines.push(l),
        signal: new AbortController().signal,
        artifacts,
      });
      const produces = [
        { name: 'sales', path: 'out/sales.csv' },
        { name: 'regions', path: 'out/regions' },
      ];
      const extract = await executor().run(
        {
          ...request(
            'mkdir -p out/regions && printf "a,1\\n" > out/sales.csv && echo eu > out/regions/eu.csv',
          ),
          uid,
          job: 'extract',
        },
        io(
          new JobArtifacts(
            store,
            { uid, job: 'extract', attempt: 1 },
            produces,
            [],
            limits,
            runBytes,
          ),
        ),
      );
      expect(extract).toMatchObject({ status: 'SUCCESSFUL', exitCode: 0 });
      expect(extract.artifacts).toEqual([
        expect.objectContaining({ name: 'sales', kind: 'file', size: 4 }),
        expect.objectContaining({ name: 'regions', kind: 'directory' }),
      ]);
      const [sales, regions] = extract.artifacts ?? [];
      const receives = [
        { from: 'extract', name: 'sales', record: sales! },
        { from: 'extract', name: 'regions', record: regions! },
      ];
      const report = await executor().run(
        {
          ...request(
            'cat "$CHAINR_ARTIFACTS/extract/sales" "$CHAINR_ARTIFACTS/extract/regions/eu.csv"',
          ),
          uid,
          job: 'report',
        },
        io(
          new JobArtifacts(
            store,
            { uid, job: 'report', attempt: 1 },
            [],
            receives,
            limits,
            runBytes,
          ),
        ),
      );
      expect(report.status).toBe('SUCCESSFUL');
      expect(lines).toEqual(['a,1', 'eu']);

      // A declared path the job did not write fails it, with the engine's reason in its log.
      const missing = await executor().run(
        { ...request('true'), uid, job: 'lazy' },
        io(
          new JobArtifacts(
            store,
            { uid, job: 'lazy', attempt: 1 },
            [{ name: 'nothing', path: 'not/there' }],
            [],
            limits,
            runBytes,
          ),
        ),
      );
      expect(missing).toMatchObject({
        status: 'FAILED',
        reason: 'artifact "nothing": not/there does not exist',
      });
      expect(lines.slice(2)).toEqual([
        expect.stringMatching(/^chainr: not\/there could not be copied out: /),
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails clearly when the image cannot be had', async () => {
    const result = await executor().run(request('true', 'localhost/no-such-image'), {
      onLog: () => undefined,
      signal: new AbortController().signal,
    });
    expect(result.status).toBe('FAILED');
    expect(result.reason).toMatch(/^could not start the container: .*no-such-image/);
  });

  it('on cancel, stops and removes the container', async () => {
    const r = request('echo started; sleep 30');
    const controller = new AbortController();
    const result = await executor().run(r, {
      onLog: (line) => line === 'started' && controller.abort('canceled'),
      signal: controller.signal,
    });
    expect(result).toEqual({ status: 'FAILED', exitCode: null, reason: 'canceled' });
    expect(containers(containerName(r))).toEqual([]);
  });

  it('on worker shutdown, leaves the container running for the next worker', async () => {
    const r = request('echo started; sleep 30');
    const controller = new AbortController();
    const result = await executor().run(r, {
      onLog: (line) => line === 'started' && controller.abort(WORKER_SHUTDOWN_REASON),
      signal: controller.signal,
    });
    expect(result.reason).toBe(WORKER_SHUTDOWN_REASON);
    expect(containers(containerName(r))).toEqual(['running']);
    spawnSync('podman', ['rm', '--force', '--time', '0', containerName(r)], { env: engine?.env() });
  });
});
