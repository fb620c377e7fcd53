/**
 * The two artifact steps of an executor that has the job's files on this host: its inputs placed
 * before it starts, its declared artifacts stored after a successful end. Either failing fails the
 * job, saying why.
 */
import type { ArtifactTransfer, ExecutionResult } from './executor.ts';

/** Places the job's inputs under `dir`; a FAILED result when they could not be. */
export async function placeInputs(
  artifacts: ArtifactTransfer,
  dir: string,
  after: () => Promise<void> = () => Promise.resolve(),
): Promise<ExecutionResult | undefined> {
  try {
    await artifacts.placeInputs(dir);
    await after();
    return undefined;
  } catch (err) {
    const reason = `its input artifacts could not be placed: ${(err as Error).message}`;
    return { status: 'FAILED', exitCode: null, reason };
  }
}

/** Stores the job's declared artifacts, found under `workDir`, with its result. */
export async function withArtifacts(
  result: ExecutionResult,
  artifacts: ArtifactTransfer,
  workDir: string,
): Promise<ExecutionResult> {
  try {
    return { ...result, artifacts: await artifacts.storeOutputs(workDir) };
  } catch (err) {
    return { status: 'FAILED', exitCode: result.exitCode, reason: (err as Error).message };
  }
}
