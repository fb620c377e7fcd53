/**
 * The artifact steps in a Kubernetes job's pod, run by chainr's image (`chainr pod-artifacts`,
 * the transfer containers of manifest.ts): `inputs` places the job's inputs in the
 * pod's volume before the job starts; `outputs` waits for the job's wrapper to have copied the
 * declared paths into the volume (its marker), stores them and reports their records as its
 * termination message. Everything streams (s3-store.ts): memory does not grow with the size.
 * A failure is written as the termination message, which the worker gives as the job's reason.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { S3ArtifactStore } from '../../artifacts/s3-store.ts';
import { placeArtifacts, storeArtifacts } from '../../artifacts/transfer.ts';
import type { PodTransferSpec } from './pod-artifacts.ts';
import { formatRecords, parseMarker } from './pod-artifacts.ts';

/** How often the outputs step looks for the wrapper's marker. */
const MARKER_POLL_MS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForMarker(path: string): Promise<string> {
  for (;;) {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await sleep(MARKER_POLL_MS);
  }
}

/** Places the inputs under `dir`, each at `<dir>/<from>/<name>`. */
export async function podInputs(spec: PodTransferSpec, dir: string): Promise<string> {
  const store = new S3ArtifactStore(spec.s3);
  try {
    await placeArtifacts(store, spec.attempt.uid, spec.receives, dir);
    return '';
  } finally {
    store.close();
  }
}

/**
 * Stores the copies the wrapper made under `collectDir` once its marker says the job succeeded;
 * resolves with the termination message (the records), rejects with the reason it failed.
 */
export async function podOutputs(
  spec: PodTransferSpec,
  collectDir: string,
  markerPath: string,
): Promise<string> {
  const ended = parseMarker(await waitForMarker(markerPath));
  if (!ended) throw new Error(`the job's wrapper left an unreadable marker at ${markerPath}`);
  // The job failed: nothing is stored, and the job container says why.
  if (ended.exitCode !== 0) return '';
  const [first] = ended.problems;
  if (first) throw new Error(`artifact "${first.name}": ${first.problem}`);
  const store = new S3ArtifactStore(spec.s3);
  try {
    const copies = spec.produces.map(({ name }) => ({ name, path: name }));
    const records = await storeArtifacts(
      store,
      spec.attempt,
      copies,
      collectDir,
      spec.limits,
      spec.used,
    );
    return formatRecords(records);
  } finally {
    store.close();
  }
}

/** Runs one step, writing its message (records, or why it failed) where the kubelet reads it. */
export async function runPodStep(
  step: () => Promise<string>,
  terminationMessagePath: string,
): Promise<number> {
  try {
    await writeFile(terminationMessagePath, await step());
    return 0;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`chainr: ${reason}\n`);
    await writeFile(terminationMessagePath, reason).catch(() => undefined);
    return 1;
  }
}
