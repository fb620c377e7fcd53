/** What the sched routes share: their context and the lookups that answer 404. */
import type { FastifyRequest } from 'fastify';
import type { EventHub } from '../../store/events.ts';
import type { LogStore } from '../../store/logs.ts';
import type { RunRecord, RunStore } from '../../store/runs.ts';
import type { SchedOptions } from './app.ts';
import { HttpError } from './errors.ts';
import { isUid } from './views.ts';

export interface SchedContext {
  runs: RunStore;
  logs: LogStore;
  events: EventHub;
  options: SchedOptions;
}

/** The `:uid` route parameter; a value that is not a uid cannot name a run. */
export function runUid(request: FastifyRequest): string {
  const { uid } = request.params as { uid: string };
  if (!isUid(uid)) throw new HttpError(404, `run ${uid} not found`);
  return uid;
}

export async function mustGetRun(runs: RunStore, uid: string): Promise<RunRecord> {
  const run = await runs.get(uid);
  if (!run) throw new HttpError(404, `run ${uid} not found`);
  return run;
}
