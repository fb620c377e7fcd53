/**
 * A worker thread running one of chainr's modules: the compiled `.js` when chainr runs from
 * dist/, the `.ts` source in a checkout, whose loader (tsx) it registers first: Node 20 does not
 * carry the main thread's (bin/chainr.js) into workers.
 */
import { Worker } from 'node:worker_threads';

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(workerData.loader ? import(workerData.loader).then((tsx) => tsx.register()) : Promise.resolve())
  .then(() => import(workerData.module));
`;
const COMPILED = import.meta.url.endsWith('.js');

/** `moduleUrl`: the module's URL without its extension (`new URL('./thread', import.meta.url)`). */
export function startModuleThread(moduleUrl: URL, workerData: object): Worker {
  return new Worker(BOOTSTRAP, {
    eval: true,
    workerData: {
      ...workerData,
      loader: COMPILED ? undefined : import.meta.resolve('tsx/esm/api'),
      module: `${moduleUrl.href}.${COMPILED ? 'js' : 'ts'}`,
      // A thread's own stdout is never a terminal; whether the process's is decides how it logs.
      stdoutIsTTY: process.stdout.isTTY === true,
    },
  });
}
