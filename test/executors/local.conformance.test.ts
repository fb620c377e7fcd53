/** The executor conformance suite on the local executor. */
import { LocalExecutor } from '../../src/executors/local.ts';
import { executorConformance } from './conformance.ts';

executorConformance({
  name: 'local',
  create: () => new LocalExecutor({ killGraceMs: 1000 }),
  image: 'busybox',
  separateStreams: true,
  // Timeouts of local jobs are enforced by the worker (src/services/work/service.ts aborts the run),
  // which test/features.test.ts checks end to end; the executor itself ignores timeoutMs.
  supports: { timeout: false, outputs: true, exec: true },
  startupMs: 1000,
});
