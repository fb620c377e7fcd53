/** The streaming endpoints: run events and all events over SSE, job logs (optionally followed). */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { isTerminalJob, isTerminalRun } from '../../core/types.ts';
import type { ChainrEvent, EventHub } from '../../store/events.ts';
import type { LogLine } from '../../store/logs.ts';
import { clientOf } from '../../http/auth/plugin.ts';
import { HttpError, resource } from '../../http/errors.ts';
import { mustGetRun, runUid, type SchedContext } from './lookup.ts';
import { errorResponses, streamed, uidParams } from './schemas.ts';
import { openSse, type SseStream } from './sse.ts';
import { readerBuffer } from './reader-buffer.ts';
import { compareIds } from '../../store/log-hub.ts';
import {
  EventGapSchema,
  RunEndEventSchema,
  RunSchema,
  TransitionEventSchema,
} from '../../api/wire.ts';
import { runView } from './views.ts';
import { attemptStarts, LogText } from './log-text.ts';

const eventName = (e: ChainrEvent) => (e.job === undefined ? 'run' : 'job');

/**
 * How long a stream waits for the event hub to fix its position before answering 503: the hub
 * reads with the blocking connection, which waits for Redis to come back instead of failing.
 */
const HUB_WAIT_MS = 5000;
/** Lines of an archived log rendered and sent at a time to a follower, as pages of Redis are. */
const ARCHIVED_PAGE = 10_000;

/**
 * Subscribes to the events `accepts` picks and holds them back until `deliverTo` names where
 * they go: the route answers (and reads what comes before them: a snapshot, a replay) in
 * between, and the events written meanwhile follow it, in order. What is held counts against
 * the reader's buffer (`limitBytes`, as serialized): a reader slow to take a replay while events
 * keep coming has them dropped, and `deliverTo` answers false (the reader is to be disconnected).
 */
async function held(events: EventHub, accepts: (e: ChainrEvent) => boolean, limitBytes: number) {
  let pending: ChainrEvent[] = [];
  let pendingBytes = 0;
  let overflowed = false;
  let deliver: (e: ChainrEvent) => void = (e) => {
    if (overflowed) return;
    pendingBytes += JSON.stringify(e).length;
    if (pendingBytes <= limitBytes) pending.push(e);
    else [overflowed, pending] = [true, []];
  };
  const subscribing = events.subscribe((e) => {
    if (accepts(e)) deliver(e);
  });
  let timer: NodeJS.Timeout | undefined;
  const redisDown = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(503, 'the store (Redis) is unavailable; try again shortly')),
      HUB_WAIT_MS,
    );
  });
  let unsubscribe: () => void;
  try {
    unsubscribe = await Promise.race([subscribing, redisDown]);
  } catch (err) {
    subscribing.then(
      (late) => late(),
      () => undefined,
    ); // a subscription made too late is let go
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    unsubscribe,
    deliverTo(sink: (e: ChainrEvent) => void): boolean {
      deliver = sink;
      for (const e of pending.splice(0)) sink(e);
      return !overflowed;
    },
  };
}

export function registerStreams(app: FastifyInstance, ctx: SchedContext): void {
  const { runs, history, logs, events, logHub, streamLimits, options, coverage } = ctx;
  const { bufferBytes } = streamLimits.settings;

  resource(app, '/api/events', {
    GET: {
      schema: {
        operationId: 'watchEvents',
        summary:
          'Every run and job transition, as Server-Sent Events (resumable with Last-Event-ID)',
        tags: ['events'],
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({
              pattern: '^[0-9]+-[0-9]+$',
              description:
                'The id of the last event received: the stream starts with the events after it, or with a `gap` event when they are no longer held',
            }),
          ),
        }),
        response: {
          200: streamed(
            'text/event-stream',
            'The event stream, open until the client leaves, or until it falls behind by more than CHAINR_STREAM_BUFFER_BYTES (then closed: resume with Last-Event-ID)',
            '`run` and `job` events, each with its stream id and a TransitionEvent as data; first, when resuming after an event no longer held, a `gap` event; comments keep the connection alive',
            { run: TransitionEventSchema, job: TransitionEventSchema, gap: EventGapSchema },
          ),
          ...errorResponses(400, 503),
        },
      },
      handler: async (request, reply) => {
        const lastId = request.headers['last-event-id'] as string | undefined;
        const release = streamLimits.admit(clientOf(request), reply);
        // The stream opens once the hub listens: every event written after the client sees the
        // answer reaches it.
        const subscription = await held(events, () => true, bufferBytes).catch((err: unknown) => {
          release();
          throw err;
        });
        const stream = openSse(request, reply, { bufferBytes, kind: 'events' });
        stream.onClose(subscription.unsubscribe);
        stream.onClose(release);
        // The id of the newest event the client has: the replay and the events held meanwhile
        // overlap, and each event is sent once.
        let sentUpTo = lastId;
        const send = (e: ChainrEvent) => {
          if (sentUpTo !== undefined && compareIds(e.id, sentUpTo) <= 0) return;
          sentUpTo = e.id;
          stream.send(eventName(e), e, e.id);
        };
        try {
          if (lastId !== undefined) sentUpTo = await resume(stream, lastId);
        } catch (err) {
          // Redis failing mid-replay: the client resumes again from the last event it got.
          request.log.warn({ err }, 'event replay interrupted; closing the stream');
          return stream.close();
        }
        if (!subscription.deliverTo(send)) stream.drop();
      },
    },
  });

  /**
   * Sends the events after `lastId`, at the reader's pace, when they are all still held; when
   * `lastId` is gone from the stream (trimmed by CHAINR_MAX_EVENTS), events after it may be too,
   * and the client is told to list again (`gap`), as a Kubernetes watch from a compacted
   * resourceVersion is told 410 Gone. Answers the id of the newest event the client has then
   * (none after a gap: every event that follows is news to it).
   */
  async function resume(stream: SseStream, lastId: string): Promise<string | undefined> {
    if (!(await events.holds(options.redis, lastId))) {
      await stream.sendPaced('gap', {
        after: lastId,
        message: `the events after ${lastId} are no longer held: list the runs again (GET /api/runs); the events that follow are those written since`,
      });
      return undefined;
    }
    let sent = lastId;
    for await (const page of events.since(options.redis, lastId)) {
      for (const e of page) {
        if (stream.closed) return sent;
        await stream.sendPaced(eventName(e), e, e.id);
        sent = e.id;
      }
    }
    return sent;
  }

  resource(app, '/api/runs/:uid/events', {
    GET: {
      schema: {
        summary:
          "A run's transitions as Server-Sent Events: first a `run` event with the whole run (its pipeline included), then " +
          '`job` and `run` events as they happen, and `end` once the run has ended',
        operationId: 'watchRunEvents',
        tags: ['events'],
        params: uidParams,
        response: {
          200: streamed(
            'text/event-stream',
            'The event stream, closed after the `end` event, or when the client falls behind by more than CHAINR_STREAM_BUFFER_BYTES (a new request starts again from a snapshot)',
            'A `run` event whose data is the Run; then `job` and `run` events, each with its stream id and a TransitionEvent as data; last, an `end` event whose data is a RunEndEvent',
            { snapshot: RunSchema, transition: TransitionEventSchema, end: RunEndEventSchema },
          ),
          ...errorResponses(404, 503),
        },
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        const release = streamLimits.admit(clientOf(request), reply);
        // Subscribed (the hub's position fixed) before the snapshot is read: no event is lost
        // between the two, and none handed over is older than the snapshot.
        let subscription: Awaited<ReturnType<typeof held>> | undefined;
        let run;
        try {
          subscription = await held(events, (e) => e.uid === uid, bufferBytes);
          run = await mustGetRun(history, uid).catch((err: unknown) => {
            subscription?.unsubscribe();
            throw err;
          });
        } catch (err) {
          release();
          throw err;
        }
        const stream = openSse(request, reply, { bufferBytes, kind: 'run' });
        stream.onClose(subscription.unsubscribe);
        stream.onClose(release);
        // Paced: a run of thousands of jobs is a snapshot larger than the buffer's bound.
        await stream.sendPaced(
          'run',
          runView(run, { withPipeline: true, unserved: await coverage.unserved() }),
        );
        if (isTerminalRun(run.status)) {
          stream.send('end', { uid, status: run.status });
          return stream.close();
        }
        const delivered = subscription.deliverTo((e) => {
          stream.send(eventName(e), e, e.id);
          if (e.job === undefined && isTerminalRun(e.status as never)) {
            stream.send('end', { uid, status: e.status });
            stream.close();
          }
        });
        if (!delivered) stream.drop();
      },
    },
  });

  resource(app, '/api/runs/:uid/jobs/:name/logs', {
    GET: {
      schema: {
        operationId: 'readJobLog',
        summary:
          "A job's log as plain text, or one attempt's; with follow=true, streamed until the job (or the attempt) ends",
        tags: ['logs'],
        params: {
          type: 'object',
          properties: { ...uidParams.properties, name: { type: 'string' } },
          required: ['uid', 'name'],
        },
        querystring: {
          type: 'object',
          properties: {
            follow: { type: 'boolean', default: false },
            attempt: {
              type: 'integer',
              minimum: 1,
              description:
                "Only this attempt's lines (1 for the first), without marker lines; 404 for an attempt the job has not reached",
            },
            skip: {
              type: 'integer',
              minimum: 0,
              default: 0,
              description:
                'Leave out this many lines from the start (marker lines count): a follower whose connection dropped asks again with the number of whole lines it has read, and goes on where it was',
            },
          },
        },
        response: {
          200: streamed(
            'text/plain; charset=utf-8',
            "The job's log",
            'One line of output per line, stdout and stderr interleaved as they came. Without `attempt`, the lines of each attempt after the first follow a marker line of their own: `── attempt 2 · started 2026-05-01T12:03:04.000Z ──`',
          ),
          ...errorResponses(400, 404, 503),
        },
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        const { name } = request.params as { name: string };
        const { follow, attempt, skip } = request.query as {
          follow: boolean;
          attempt?: number;
          skip: number;
        };
        const found = await history.find(uid);
        if (!found) throw new HttpError(404, `run ${uid} not found`);
        const { run, archived } = found;
        const job = run.jobs.find((j) => j.name === name);
        if (!job) throw new HttpError(404, `run ${uid} has no job "${name}"`);
        if (attempt !== undefined && attempt > job.attempt) {
          throw new HttpError(
            404,
            `attempt: job "${name}" of run ${uid} is at attempt ${job.attempt}; it has no attempt ${attempt}`,
          );
        }
        const text = new LogText(
          attempt,
          attemptStarts(job),
          async () => {
            const now = (await runs.get(uid))?.jobs.find((j) => j.name === name);
            return now ? attemptStarts(now) : new Map();
          },
          skip,
        );
        // The run moved to the archive while its log was read from Redis (the log left Redis
        // with it, perhaps between two pages): the rest is in the archive, after the lines read.
        // The archive holds the lines Redis held when the run ended, in the same order, so the
        // count read is where to go on, unless the cap (CHAINR_MAX_LOG_LINES) trimmed lines of a
        // running job after this reader had read them.
        const archivedAfter = async (read: number) =>
          ((await history.archivedLog(uid, name)) ?? []).slice(read);
        // An archived run has ended, and so has an earlier attempt: its lines are all there is.
        if (archived || !follow || (attempt !== undefined && attempt < job.attempt)) {
          // Sent a page at a time: the first lines leave while the next are read.
          const pages = async function* () {
            let read = 0;
            if (!archived)
              for await (const page of logs.pages(uid, name)) {
                read += page.length;
                yield await text.render(page);
              }
            if (archived || !(await runs.jobAttempt(uid, name)))
              yield await text.render(await archivedAfter(read));
          };
          return reply.type('text/plain; charset=utf-8').send(Readable.from(pages()));
        }
        const release = streamLimits.admit(clientOf(request), reply);
        // Subscribed to the job's transitions before its status is read: its end is not missed.
        let transitions;
        try {
          transitions = await held(events, (e) => e.uid === uid && e.job === name, bufferBytes);
        } catch (err) {
          release();
          throw err;
        }
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/plain; charset=utf-8',
          'x-accel-buffering': 'no',
        });
        let after = '0-0';
        let stopFollowing = () => {};
        let ending = false;
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          stopFollowing();
          transitions.unsubscribe();
          release();
          res.end();
        };
        res.on('close', close);
        // HEAD asks for the headers alone, not to wait for the job to end.
        if (request.method === 'HEAD') return close();
        const buffer = readerBuffer(res, bufferBytes, 'log', request.log);
        // Lines are written in the order they came, each batch once its text is ready (reading
        // an attempt's start time for its marker can take a round trip): what is in the log
        // already at the reader's pace, the lines written while it is followed within the
        // buffer's bound.
        let written = Promise.resolve();
        /** Lines of the log sent or queued to be, every attempt's. */
        let sent = 0;
        const write = (lines: LogLine[], paced: boolean) => {
          after = lines[lines.length - 1]?.id ?? after;
          sent += lines.length;
          written = written
            .then(() => text.render(lines))
            .then((chunk) => {
              if (closed) return;
              if (paced) return buffer.paced(chunk);
              buffer.write(chunk);
            })
            .catch((err: unknown) => request.log.warn({ err }, 'log text not written'));
        };
        // A page is read once the reader has taken most of the one before.
        const rest = async () => {
          for await (const page of logs.pages(uid, name, after === '0-0' ? '-' : after)) {
            write(page, true);
            await written;
          }
        };
        // Redis restarting or failing over: the follower waits for it and goes on from the last
        // line it sent, as the event streams do.
        const retrying = (step: () => Promise<void>) => async () => {
          while (!closed) {
            try {
              return await step();
            } catch (err) {
              request.log.warn({ err }, 'log follow interrupted; retrying');
              await new Promise((r) => setTimeout(r, 1000));
            }
          }
        };
        // Once the job has ended, or the attempt followed has, every line is in the stream
        // (workers flush logs before recording the result): the rest is read, and the answer ends.
        const endIfEnded = retrying(async () => {
          if (ending) return;
          const now = await runs.jobAttempt(uid, name);
          const ended =
            !now || isTerminalJob(now.status) || (attempt !== undefined && now.attempt > attempt);
          if (ending || !ended) return;
          ending = true;
          stopFollowing();
          await rest();
          if (!now) {
            // Gone from Redis: to the archive, with the lines not read before it left.
            const lines = await archivedAfter(sent);
            for (let from = 0; from < lines.length; from += ARCHIVED_PAGE) {
              write(lines.slice(from, from + ARCHIVED_PAGE), true);
              await written;
            }
          }
          close();
        });
        await retrying(rest)();
        if (closed) return;
        stopFollowing = logHub.follow(uid, name, after, (lines) => write(lines, false));
        const delivered = transitions.deliverTo((e) => {
          // A retry's transition (back to PENDING) ends the attempt followed.
          if (isTerminalJob(e.status) || attempt !== undefined) void endIfEnded();
        });
        if (!delivered) buffer.drop();
        await endIfEnded();
      },
    },
  });
}
