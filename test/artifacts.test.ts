/**
 * Artifacts on the local executor, through the HTTP API: declared paths stored when a job ends
 * SUCCESSFUL (size and sha256 recorded), placed for descendants at $CHAINR_ARTIFACTS/<job>/<name>,
 * listed and downloaded; limits per artifact and per run; kept for the jobs a retry does not re-run.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemArtifactStore } from '../src/artifacts/filesystem-store.ts';
import { getRun, statuses, waitForEnd, type RunBody } from './fixtures/api.ts';
import { runChainr } from './fixtures/cli.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let server: TestRedis;
let h: Harness;
let root: string;
let scratch: string;

const PER_ARTIFACT = 64 * 1024;
const PER_RUN = 100 * 1024;

beforeAll(async () => {
  server = await startRedis();
  root = mkdtempSync(join(tmpdir(), 'chainr-artifacts-test-'));
  scratch = mkdtempSync(join(tmpdir(), 'chainr-artifacts-scratch-'));
  const store = new FilesystemArtifactStore(root);
  h = await startInProcess(server.url, {
    artifacts: { store, limits: { perArtifact: PER_ARTIFACT, perRun: PER_RUN } },
  });
});

afterAll(async () => {
  await h?.stop();
  await server?.stop();
  for (const dir of [root, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function runToEnd(pipeline: unknown): Promise<RunBody> {
  const yaml = typeof pipeline === 'string';
  const res = await fetch(`${h.url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': yaml ? 'application/yaml' : 'application/json' },
    body: yaml ? pipeline : JSON.stringify(pipeline),
  });
  const text = await res.text();
  expect(res.status, text).toBe(202);
  return waitForEnd(h.url, (JSON.parse(text) as RunBody).metadata.uid);
}

const logOf = async (uid: string, job: string) =>
  (await fetch(`${h.url}/api/runs/${uid}/jobs/${job}/logs`)).text();

interface Listed {
  name: string;
  kind: string;
  size: number;
  sha256: string;
  attempt: number;
}

async function listOf(uid: string, job: string): Promise<Listed[]> {
  const res = await fetch(`${h.url}/api/runs/${uid}/jobs/${job}/artifacts`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Listed[] }).items;
}

async function jobOf(uid: string, name: string) {
  const run = await getRun(h.url, uid);
  return run.jobs.find((j) => j.name === name) as { status: string; reason?: string };
}

const job = (run: string, extra: Record<string, unknown> = {}) => ({
  image: 'busybox',
  run,
  ...extra,
});
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

describe('artifacts on the local executor', () => {
  it("pass a file and a directory from extract to load to report (the README's pipeline)", async () => {
    const rows = 'a,1\nb,2\nc,3\n';
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        extract: job(
          `mkdir -p out/parts && printf '${rows.replace(/\n/g, '\\n')}' > out/rows.csv && echo one > out/parts/1 && echo two > out/parts/2`,
          {
            artifacts: [
              { name: 'rows', path: 'out/rows.csv' },
              { name: 'parts', path: 'out/parts' },
            ],
          },
        ),
        load: job('wc -l < "$CHAINR_ARTIFACTS/extract/rows" | tr -d " " > count', {
          dependsOn: [{ job: 'extract' }],
          inputs: { artifacts: [{ from: 'extract', name: 'rows' }] },
          artifacts: [{ name: 'count', path: 'count' }],
        }),
        report: job(
          'echo "loaded $(cat "$CHAINR_ARTIFACTS/load/count") rows; parts: $(cat "$CHAINR_ARTIFACTS/extract/parts/"* | tr "\\n" " ")"',
          {
            dependsOn: [{ job: 'load' }],
            inputs: {
              artifacts: [
                { from: 'load', name: 'count' },
                { from: 'extract', name: 'parts' },
              ],
            },
          },
        ),
      },
    });
    const uid = run.metadata.uid;
    expect(statuses(run)).toEqual({
      extract: 'SUCCESSFUL',
      load: 'SUCCESSFUL',
      report: 'SUCCESSFUL',
    });
    expect(await logOf(uid, 'report')).toBe('loaded 3 rows; parts: one two \n');

    const listed = await listOf(uid, 'extract');
    expect(listed.map((a) => [a.name, a.kind, a.attempt])).toEqual([
      ['rows', 'file', 1],
      ['parts', 'directory', 1],
    ]);
    expect(listed[0]).toMatchObject({ size: rows.length, sha256: sha256(rows) });
    expect(await listOf(uid, 'report')).toEqual([]);
    // The job objects carry them too (the UI's job panel lists them from there).
    expect((run.jobs.find((j) => j.name === 'load') as { artifacts?: Listed[] }).artifacts).toEqual(
      [{ name: 'count', kind: 'file', size: 2, sha256: sha256('3\n'), attempt: 1 }],
    );

    const file = await fetch(`${h.url}/api/runs/${uid}/jobs/extract/artifacts/rows`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-length')).toBe(String(rows.length));
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="rows"');
    expect(await file.text()).toBe(rows);

    const ranged = await fetch(`${h.url}/api/runs/${uid}/jobs/extract/artifacts/rows`, {
      headers: { range: 'bytes=4-7' },
    });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 4-7/${rows.length}`);
    expect(await ranged.text()).toBe('b,2\n');
    const outside = await fetch(`${h.url}/api/runs/${uid}/jobs/extract/artifacts/rows`, {
      headers: { range: 'bytes=100-' },
    });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${rows.length}`);

    const dir = await fetch(`${h.url}/api/runs/${uid}/jobs/extract/artifacts/parts`);
    expect(dir.headers.get('content-type')).toBe('application/x-tar');
    const tarFile = join(scratch, `${uid}.tar`);
    const bytes = Buffer.from(await dir.arrayBuffer());
    writeFileSync(tarFile, bytes);
    expect(sha256(bytes)).toBe(listed[1]?.sha256);
    const names = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).split('\n').sort();
    expect(names).toEqual(expect.arrayContaining(['./1', './2']));

    const missing = await fetch(`${h.url}/api/runs/${uid}/jobs/extract/artifacts/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain(
      `job \\"extract\\" of run ${uid} has no artifact \\"nope\\"`,
    );
  });

  it('fails a job whose declared path is missing or leads outside its working directory', async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        missing: job('true', { artifacts: [{ name: 'x', path: 'out/x' }] }),
        escapes: job(`ln -s ${scratch} link`, { artifacts: [{ name: 'x', path: 'link' }] }),
      },
    });
    const uid = run.metadata.uid;
    expect(await jobOf(uid, 'missing')).toMatchObject({
      status: 'FAILED',
      reason: 'artifact "x": out/x does not exist',
    });
    expect(await jobOf(uid, 'escapes')).toMatchObject({
      status: 'FAILED',
      reason: 'artifact "x": link leads outside the job\'s working directory',
    });
  });

  it('refuses an artifact over the per-artifact limit, storing nothing of it', async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        big: job(`head -c ${PER_ARTIFACT + 1} /dev/zero > big`, {
          artifacts: [{ name: 'big', path: 'big' }],
        }),
      },
    });
    const uid = run.metadata.uid;
    expect(await jobOf(uid, 'big')).toMatchObject({
      status: 'FAILED',
      reason: `artifact "big" is larger than the limit of ${PER_ARTIFACT} bytes per artifact (CHAINR_ARTIFACT_MAX_BYTES)`,
    });
    expect(await listOf(uid, 'big')).toEqual([]);
    // Neither the artifact nor a partial file of it is left.
    const dir = join(root, uid);
    const files = existsSync(dir)
      ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      : [];
    expect(files).toEqual([]);
  });

  it("stores a file with the store's own mode, whatever the job's (set-user-ID included)", async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        make: job('printf "#!/bin/sh\\necho hi\\n" > tool && chmod 4755 tool', {
          artifacts: [{ name: 'tool', path: 'tool' }],
        }),
        use: job('stat -c "mode=%a" "$CHAINR_ARTIFACTS/make/tool" >> "$CHAINR_OUTPUTS"', {
          dependsOn: [{ job: 'make' }],
          inputs: { artifacts: [{ from: 'make', name: 'tool' }] },
        }),
      },
    });
    const uid = run.metadata.uid;
    expect(statuses(run)).toEqual({ make: 'SUCCESSFUL', use: 'SUCCESSFUL' });
    const stored = statSync(join(root, uid, 'make', '1', 'tool'));
    expect((stored.mode & 0o7777).toString(8)).toBe('644');
    expect(run.jobs.find((j) => j.name === 'use')?.outputs).toEqual({ mode: '644' });
    const [listed] = await listOf(uid, 'make');
    expect(listed?.sha256).toBe(sha256('#!/bin/sh\necho hi\n'));
  });

  it("gives each dependent its own copy: one that writes to it changes neither the store's nor another's", async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        make: job('echo original > data', { artifacts: [{ name: 'data', path: 'data' }] }),
        // Written in place (same file, not replaced by a new one): what a link would pass on.
        spoil: job('echo spoiled | dd of="$CHAINR_ARTIFACTS/make/data" conv=notrunc 2>/dev/null', {
          dependsOn: [{ job: 'make' }],
          inputs: { artifacts: [{ from: 'make', name: 'data' }] },
        }),
        read: job('cat "$CHAINR_ARTIFACTS/make/data"', {
          dependsOn: [{ job: 'spoil' }],
          inputs: { artifacts: [{ from: 'make', name: 'data' }] },
        }),
      },
    });
    const uid = run.metadata.uid;
    expect(statuses(run)).toEqual({ make: 'SUCCESSFUL', spoil: 'SUCCESSFUL', read: 'SUCCESSFUL' });
    expect(await logOf(uid, 'read')).toBe('original\n');
    expect(readFileSync(join(root, uid, 'make', '1', 'data'), 'utf8')).toBe('original\n');
  });

  it("refuses the artifact that takes the run's artifacts over the per-run limit", async () => {
    const size = 60 * 1024;
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        first: job(`head -c ${size} /dev/zero > f`, { artifacts: [{ name: 'f', path: 'f' }] }),
        second: job(`head -c ${size} /dev/zero > f`, {
          dependsOn: [{ job: 'first' }],
          artifacts: [{ name: 'f', path: 'f' }],
        }),
      },
    });
    const uid = run.metadata.uid;
    expect(await jobOf(uid, 'first')).toMatchObject({ status: 'SUCCESSFUL' });
    expect(await jobOf(uid, 'second')).toMatchObject({
      status: 'FAILED',
      reason: `artifact "f" takes the run's artifacts over the limit of ${PER_RUN} bytes per run (CHAINR_ARTIFACT_RUN_MAX_BYTES; ${size} bytes stored before it)`,
    });
  });

  it('keeps the artifacts of the jobs a retry does not re-run, and gives them to those it does', async () => {
    const marker = join(scratch, `failed-once-${Date.now()}`);
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        make: job('echo built > app', { artifacts: [{ name: 'app', path: 'app' }] }),
        use: job(
          `if [ ! -e ${marker} ]; then touch ${marker}; exit 1; fi; cat "$CHAINR_ARTIFACTS/make/app"`,
          {
            dependsOn: [{ job: 'make' }],
            inputs: { artifacts: [{ from: 'make', name: 'app' }] },
          },
        ),
      },
    });
    const uid = run.metadata.uid;
    expect(statuses(run)).toEqual({ make: 'SUCCESSFUL', use: 'FAILED' });
    const before = await listOf(uid, 'make');
    const retry = await fetch(`${h.url}/api/runs/${uid}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    const after = await waitForEnd(h.url, uid);
    expect(statuses(after)).toEqual({ make: 'SUCCESSFUL', use: 'SUCCESSFUL' });
    expect(await listOf(uid, 'make')).toEqual(before);
    expect(await logOf(uid, 'use')).toContain('built\n');
  });

  it('fails a job with artifacts on an executor that does not move them, saying so', async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: { n: job('true', { executor: 'noop', artifacts: [{ name: 'x', path: 'x' }] }) },
    });
    expect(await jobOf(run.metadata.uid, 'n')).toMatchObject({
      status: 'FAILED',
      reason: 'the noop executor does not move artifacts (the job stores or receives some)',
    });
  });

  it("runs docs/PIPELINES.md's example and examples/data-pipeline.yaml as they are", async () => {
    const doc = readFileSync(new URL('../docs/PIPELINES.md', import.meta.url), 'utf8');
    const example = /<!-- example: artifacts -->\s*```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const fromDoc = await runToEnd(example);
    expect(statuses(fromDoc)).toEqual({
      extract: 'SUCCESSFUL',
      load: 'SUCCESSFUL',
      report: 'SUCCESSFUL',
    });
    expect(await logOf(fromDoc.metadata.uid, 'report')).toBe('rows loaded: 3\n1,eu,120\n3,eu,45\n');

    const file = readFileSync(new URL('../examples/data-pipeline.yaml', import.meta.url), 'utf8');
    const fromFile = await runToEnd(file);
    const uid = fromFile.metadata.uid;
    expect(statuses(fromFile)).toEqual({
      extract: 'SUCCESSFUL',
      load: 'SUCCESSFUL',
      report: 'SUCCESSFUL',
    });
    const report = 'rows loaded: 3\neu: 165\nus: 80\n';
    expect(await logOf(uid, 'report')).toBe(report);
    const saved = await fetch(`${h.url}/api/runs/${uid}/jobs/report/artifacts/report`);
    expect(await saved.text()).toBe(report);
  });

  it('chainr artifacts get saves them: files as files, directories unpacked, one or all', async () => {
    const run = await runToEnd({
      kind: 'Pipeline',
      jobs: {
        make: job(
          'mkdir -p site/css && echo "<h1>hi</h1>" > site/index.html && echo "h1{}" > site/css/a.css && echo v1 > version',
          {
            artifacts: [
              { name: 'site', path: 'site' },
              { name: 'version', path: 'version' },
            ],
          },
        ),
      },
    });
    const uid = run.metadata.uid;
    const out = join(scratch, `cli-${uid}`);
    const env = { CHAINR_SERVER: h.url };
    const all = await runChainr(['artifacts', 'get', uid, 'make', '-o', out], env);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(
      new RegExp(
        `^site: directory, \\d+ bytes, saved to ${join(out, 'site')}\nversion: file, 3 bytes, saved to ${join(out, 'version')}\n$`,
      ),
    );
    expect(readFileSync(join(out, 'site', 'index.html'), 'utf8')).toBe('<h1>hi</h1>\n');
    expect(readFileSync(join(out, 'site', 'css', 'a.css'), 'utf8')).toBe('h1{}\n');
    expect(readFileSync(join(out, 'version'), 'utf8')).toBe('v1\n');
    // Nothing partial left beside them.
    expect(readdirSync(out).sort()).toEqual(['site', 'version']);

    const one = await runChainr(
      ['artifacts', 'get', uid.slice(-8), 'make', 'version', '-o', join(out, 'one')],
      env,
    );
    expect(one.code).toBe(0);
    expect(readdirSync(join(out, 'one'))).toEqual(['version']);

    const none = await runChainr(['artifacts', 'get', uid, 'make', 'nope', '-o', out], env);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(
      `job "make" of run ${uid} has no artifact "nope" (it has: site, version)`,
    );
  });
});

describe('the filesystem store', () => {
  it("stores a file of many reads whole, with its bytes' sha256, apart from the job's file", async () => {
    const store = new FilesystemArtifactStore(join(scratch, 'store'));
    // Not a whole number of the store's reads (4 MiB each).
    const bytes = randomBytes(9 * 1024 ** 2 + 12345);
    const jobFile = join(scratch, 'job-file');
    writeFileSync(jobFile, bytes);
    const key = { uid: 'r1', job: 'make', attempt: 1, name: 'blob' };
    const file = await open(jobFile, 'r+');
    try {
      expect(await store.putFile(key, file, bytes.length)).toEqual({
        size: bytes.length,
        sha256: sha256(bytes),
      });
      // The job's process writing on afterwards (still holding its file open) changes nothing stored.
      await file.write(Buffer.from('later'), 0, 5, 0);
    } finally {
      await file.close();
    }
    expect(readFileSync(store.pathOf(key)).equals(bytes)).toBe(true);
    const placed = join(scratch, 'placed-blob');
    await store.copyOut(key, placed);
    expect(readFileSync(placed).equals(bytes)).toBe(true);
  });
});
