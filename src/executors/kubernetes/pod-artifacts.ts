/**
 * Artifacts on Kubernetes, the parts both sides share (pure): what the pod's transfer containers
 * are told (PodTransferSpec), the wrapper's marker they read, and the records the outputs
 * container reports as its termination message (which the kubelet caps at 4096 bytes).
 *
 * The pod's layout (manifest.ts): an init container of chainr's image places the job's inputs in
 * the pod's emptyDir (INPUTS_IN_POD, $CHAINR_ARTIFACTS); the job's container runs under
 * `chainr-exec run-collect`, which copies the declared paths into the volume (COLLECT_IN_POD)
 * once the job has ended and then writes its marker (MARKER_IN_POD); a second container of
 * chainr's image waits for the marker, stores the copies, and ends. Both are regular
 * containers, so it works on every Kubernetes version (no native sidecars needed).
 */
import type { S3StoreConfig } from '../../artifacts/s3-store.ts';
import type { ArtifactLimits, AttemptKey, PlacedInput } from '../../artifacts/transfer.ts';
import type { ArtifactRecord, ArtifactSpec } from '../../core/artifacts.ts';

// Directly in the pod's emptyDir (manifest.ts's OUTPUTS_DIR), which exists in every container.
export const INPUTS_IN_POD = '/chainr/artifacts';
export const COLLECT_IN_POD = '/chainr/collected';
export const MARKER_IN_POD = '/chainr/job-ended';
export const INPUTS_CONTAINER = 'chainr-inputs';
export const OUTPUTS_CONTAINER = 'chainr-outputs';
/** Where chainr's image has its command (a link to its entry point, deploy/Dockerfile). */
export const CHAINR_IN_IMAGE = '/usr/local/bin/chainr';
/** The keys of the deployment's Secret the transfer containers read their credentials from. */
export const CREDENTIAL_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

/** What a transfer container moves, and where to. */
export interface PodTransferSpec {
  s3: S3StoreConfig;
  attempt: AttemptKey;
  limits: ArtifactLimits;
  /** Bytes of the run's artifacts stored before this attempt's. */
  used: number;
  produces: ArtifactSpec[];
  receives: PlacedInput[];
}

/** The marker of chainr-exec run-collect: the job's exit status, and each path not copied. */
export interface JobEnded {
  exitCode: number;
  problems: { name: string; problem: string }[];
}

export function parseMarker(text: string): JobEnded | undefined {
  const [head = '', ...rest] = text.split('\n');
  if (!/^\d+$/.test(head)) return undefined;
  const problems = rest
    .filter((line) => line !== '')
    .map((line) => {
      const tab = line.indexOf('\t');
      return { name: line.slice(0, tab), problem: line.slice(tab + 1) };
    });
  return { exitCode: Number(head), problems };
}

/**
 * One line a record, in the order of the job's declared artifacts: `<f|d> <size> <sha256>`. At
 * most 32 artifacts (the schema's limit) of at most 88 bytes each: always within the 4096 bytes.
 */
export function formatRecords(records: readonly ArtifactRecord[]): string {
  return records.map((r) => `${r.kind === 'file' ? 'f' : 'd'} ${r.size} ${r.sha256}\n`).join('');
}

const RECORD_LINE = /^([fd]) (\d+) ([0-9a-f]{64})$/;

/**
 * The records of an outputs container's message, named by the declared artifacts in order;
 * undefined when the message is not one record per artifact.
 */
export function parseRecords(
  message: string,
  produces: readonly ArtifactSpec[],
  attempt: number,
): ArtifactRecord[] | undefined {
  const lines = message.split('\n').filter((line) => line !== '');
  if (lines.length !== produces.length) return undefined;
  const records: ArtifactRecord[] = [];
  for (const [i, line] of lines.entries()) {
    const m = RECORD_LINE.exec(line);
    const name = produces[i]?.name;
    if (!m || name === undefined) return undefined;
    records.push({
      name,
      kind: m[1] === 'f' ? 'file' : 'directory',
      size: Number(m[2]),
      sha256: m[3] ?? '',
      attempt,
    });
  }
  return records;
}
