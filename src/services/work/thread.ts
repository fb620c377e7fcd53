/**
 * `chainr up`'s worker, run in a thread of its own by work/runtime.ts (`runWorkThread`), so that
 * the API's requests and the jobs' transitions run on two event loops instead of taking turns on
 * one. This module is the thread's side: it starts the worker from the configuration it is
 * handed, serves the worker's metrics on request, and stops the worker (handing its jobs back)
 * when told.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from '../../config.ts';
import { threadRuntimeRegistry, workRegistry } from '../../http/ops/metrics.ts';
import { keepOutOfLogs, makeLogger } from '../logger.ts';
import { runWork, type FromWorkThread, type ToWorkThread, type WorkThreadData } from './runtime.ts';

/** How often the thread checks its queue workers for readiness. */
const READINESS_CHECK_MS = 1000;

if (!parentPort)
  throw new Error('work/thread.ts runs as a worker thread (work/runtime.ts: runWorkThread)');
const port = parentPort;
const send = (message: FromWorkThread) => port.postMessage(message);
const { config, redis } = workerData as WorkThreadData;
const logger = makeLogger(config, 'work');
keepOutOfLogs(redis.password); // chainr up's private Redis: not in the configuration

const runtime = threadRuntimeRegistry();

try {
  const work = await runWork(config, redis, logger);
  port.on('message', (message: ToWorkThread) => {
    if (message.kind === 'metrics') {
      void Promise.all([workRegistry.metrics(), runtime.metrics()]).then((texts) =>
        send({ kind: 'metrics', id: message.id, text: texts.join('\n') }),
      );
      return;
    }
    work.stop().then(
      () => send({ kind: 'stopped' }),
      (err: unknown) => {
        logger.error({ err }, 'worker stop failed');
        send({ kind: 'stopped' });
      },
    );
  });
  send({ kind: 'started' });
  let running = true;
  setInterval(() => {
    if (work.running() === running) return;
    running = !running;
    send({ kind: 'running', running });
  }, READINESS_CHECK_MS).unref();
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  send({ kind: 'failed', message, config: err instanceof ConfigError });
}
