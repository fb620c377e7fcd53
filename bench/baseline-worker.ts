/** One baseline worker as its own process (the multi-process workload); see baseline.ts. */
import { startBaseline } from './baseline.ts';

const baseline = await startBaseline(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  work: true,
  concurrency: Number(process.env.BASE_CONCURRENCY ?? 50),
  onLeaf: (p) => process.send?.({ leaf: p }),
});
process.send?.({ ready: true });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  baseline.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
