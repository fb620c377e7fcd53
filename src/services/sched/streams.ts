/** The streaming endpoints: run events and all events over SSE, job logs (optionally followed). */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { isTerminalJob, isTerminalRun } from '../../core/types.ts';
import type { ChainrEvent, EventHub } from '../../store/events.ts';
import type { LogLine } from '../../store/logs.ts';
import { clientOf } from '../../http/auth/plugin.ts';
import { HttpError, resource } from '../../http/errors.ts';
import { mustGetRun, runUid, type SchedContext } from './lookup.ts';
import { errorResponses, streamed, uidParams } from './schemas.ts';
import { openSse } from './sse.ts';
import { RunEndEventSchema, RunSchema, TransitionEventSchema } from '../../api/wire.ts';
import { runView } from './views.ts';
import { attemptStarts, LogText } from './log-text.ts';

const eventName = (e: ChainrEvent) => (e.job === undefined ? 'run' : 'job');

/**
 * How long a stream waits for the event hub to fix its position before answering 503: the hub
 * reads with the blocking connection, which waits for Redis to come back instead of failing.
 */
const HUB_WAIT_MS = 5000;

/**
 * Subscribes to the events `accepts` picks and holds them back until `deliverTo` names where
 * they go: the route answers (and reads what comes before them: a snapshot, a replay) in
 * between, and the events written meanwhile follow it, in order.
 */
async function held(events: EventHub, accepts: (e: ChainrEvent) => boolean) {
  const pending: ChainrEvent[] = [];
  let deliver: (e: ChainrEvent) => void = (e) => void pending.push(e);
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
    deliverTo(sink: (e: ChainrEvent) => void) {
      deliver = sink;
      for (const e of pending.splice(0)) sink(e);
    },
  };
}

export function registerStreams(app: FastifyInstance, ctx: SchedContext): void {
  const { runs, logs, events, logHub, streamLimits, options, coverage } = ctx;

  resource(app, '/api/events', {
    GET: {
      schema: {
        operationId: 'watchEvents',
        summary:
          'Every run and job transition, as Server-Sent Events (resumable with Last-Event-ID)',
        tags: ['events'],
        response: {
          200: streamed(
            'text/event-stream',
            'The event stream, open until the client leaves',
            '`run` and `job` events, each with its stream id and a TransitionEvent as data; comments keep the connection alive',
            { run: TransitionEventSchema, job: TransitionEventSchema },
          ),
          ...errorResponses(503),
        },
      },
      handler: async (request, reply) => {
        const lastId = request.headers['last-event-id'];
        const release = streamLimits.admit(clientOf(request), reply);
        // The stream opens once the hub listens: every event written after the client sees the
        // answer reaches it.
        const subscription = await held(events, () => true).catch((err: unknown) => {
          release();
          throw err;
        });
        const stream = openSse(request, reply);
        stream.onClose(subscription.unsubscribe);
        stream.onClose(release);
        const send = (e: ChainrEvent) => stream.send(eventName(e), e, e.id);
        if (typeof lastId === 'string' && /^\d+-\d+$/.test(lastId)) {
          for (const e of await events.since(options.redis, lastId)) send(e);
        }
        subscription.deliverTo(send);
      },
    },
  });

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
            'The event stream, closed after the `end` event',
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
          subscription = await held(events, (e) => e.uid === uid);
          run = await mustGetRun(runs, uid).catch((err: unknown) => {
            subscription?.unsubscribe();
            throw err;
          });
        } catch (err) {
          release();
          throw err;
        }
        const stream = openSse(request, reply);
        stream.onClose(subscription.unsubscribe);
        stream.onClose(release);
        stream.send(
          'run',
          runView(run, { withPipeline: true, unserved: await coverage.unserved() }),
        );
        if (isTerminalRun(run.status)) {
          stream.send('end', { uid, status: run.status });
          return stream.close();
        }
        subscription.deliverTo((e) => {
          stream.send(eventName(e), e, e.id);
          if (e.job === undefined && isTerminalRun(e.status as never)) {
            stream.send('end', { uid, status: e.status });
            stream.close();
          }
        });
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
        const { follow, attempt } = request.query as { follow: boolean; attempt?: number };
        const run = await mustGetRun(runs, uid);
        const job = run.jobs.find((j) => j.name === name);
        if (!job) throw new HttpError(404, `run ${uid} has no job "${name}"`);
        if (attempt !== undefined && attempt > job.attempt) {
          throw new HttpError(
            404,
            `attempt: job "${name}" of run ${uid} is at attempt ${job.attempt}; it has no attempt ${attempt}`,
          );
        }
        const text = new LogText(attempt, attemptStarts(job), async () => {
          const now = (await runs.get(uid))?.jobs.find((j) => j.name === name);
          return now ? attemptStarts(now) : new Map();
        });
        // An earlier attempt has ended: its lines are all there is.
        if (!follow || (attempt !== undefined && attempt < job.attempt)) {
          // Sent a page at a time: the first lines leave while the next are read.
          const pages = async function* () {
            for await (const page of logs.pages(uid, name)) yield await text.render(page);
          };
          return reply.type('text/plain; charset=utf-8').send(Readable.from(pages()));
        }
        const release = streamLimits.admit(clientOf(request), reply);
        // Subscribed to the job's transitions before its status is read: its end is not missed.
        let transitions;
        try {
          transitions = await held(events, (e) => e.uid === uid && e.job === name);
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
        // Lines are written in the order they came, each batch once its text is ready (reading
        // an attempt's start time for its marker can take a round trip).
        let written = Promise.resolve();
        const write = (lines: LogLine[]) => {
          after = lines[lines.length - 1]?.id ?? after;
          written = written
            .then(() => text.render(lines))
            .then((chunk) => void (closed || res.write(chunk)))
            .catch((err: unknown) => request.log.warn({ err }, 'log text not written'));
        };
        const rest = async () => {
          for await (const page of logs.pages(uid, name, after === '0-0' ? '-' : after))
            write(page);
          await written;
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
          close();
        });
        await retrying(rest)();
        if (closed) return;
        stopFollowing = logHub.follow(uid, name, after, write);
        transitions.deliverTo((e) => {
          // A retry's transition (back to PENDING) ends the attempt followed.
          if (isTerminalJob(e.status) || attempt !== undefined) void endIfEnded();
        });
        await endIfEnded();
      },
    },
  });
}
