/**
 * The thread side of sched's pipeline parser (parser.ts): parses and validates the bodies it is
 * handed, so that a large one costs the API's event loop nothing but the hand-over.
 */
import { parentPort } from 'node:worker_threads';
import { parsePipeline, prepareValidator } from '../../core/validate.ts';
import type { ParseRequest, ParseResponse } from './parser.ts';

if (!parentPort) throw new Error('parse-thread.ts runs as a worker thread (sched/parser.ts)');
const port = parentPort;
prepareValidator();
port.on('message', ({ id, text, format, options }: ParseRequest) => {
  const response: ParseResponse = { id, result: parsePipeline(text, format, options) };
  port.postMessage(response);
});
