/**
 * Pipeline bodies parsed off the API's event loop: a body of up to CHAINR_BODY_LIMIT takes tens
 * of milliseconds to parse and validate, which would hold every other request (and /healthz)
 * that long. Small bodies, the common case, are parsed in place; larger ones on a thread of
 * their own, one at a time in order, started once sched listens (loading the validator takes a
 * while: not before the API is ready, nor at the first large body) and restarted if it dies.
 */
import type { Worker } from 'node:worker_threads';
import type { ValidateOptions } from '../../core/check.ts';
import { parsePipeline, prepareValidator, type PipelineFormat } from '../../core/validate.ts';
import type { ValidationResult } from '../../core/types.ts';
import { startModuleThread } from '../../process/module-thread.ts';

/** Bodies up to this size are parsed in place: they cost well under a millisecond. */
export const INLINE_PARSE_BYTES = 16 * 1024;

export interface ParseRequest {
  id: number;
  text: string;
  format: PipelineFormat;
  options: ValidateOptions;
}

export interface ParseResponse {
  id: number;
  result: ValidationResult;
}

export class PipelineParser {
  private thread: Worker | undefined;
  private readonly pending = new Map<number, (result: ValidationResult) => void>();
  private lastId = 0;

  constructor() {
    // Small bodies are validated on the event loop: not the first of them compiling the schema.
    prepareValidator();
  }

  /** Starts the thread ahead of the first large body. */
  warm(): void {
    this.started();
  }

  async parse(
    text: string,
    format: PipelineFormat,
    options: ValidateOptions,
  ): Promise<ValidationResult> {
    if (text.length <= INLINE_PARSE_BYTES) return parsePipeline(text, format, options);
    const id = ++this.lastId;
    return new Promise((done) => {
      this.pending.set(id, done);
      const request: ParseRequest = { id, text, format, options };
      this.started().postMessage(request);
    });
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    await thread?.terminate();
  }

  private started(): Worker {
    if (this.thread) return this.thread;
    const thread = startModuleThread(new URL('./parse-thread', import.meta.url), {});
    thread.on('message', ({ id, result }: ParseResponse) => {
      this.pending.get(id)?.(result);
      this.pending.delete(id);
    });
    const died = (reason: string) => {
      if (this.thread === thread) this.thread = undefined;
      const failed: ValidationResult = {
        ok: false,
        errors: [{ path: '', message: `the document could not be read: ${reason}` }],
      };
      for (const done of this.pending.values()) done(failed);
      this.pending.clear();
    };
    thread.on('error', (err) => died(err.message));
    thread.on('exit', (code) => died(`the parser thread exited (${code})`));
    // An idle parser thread does not keep the process alive.
    thread.unref();
    this.thread = thread;
    return thread;
  }
}
