/** The streaming endpoints: run events and all events over SSE, job logs (optionally followed). */
import type { FastifyInstance } from 'fastify';
import { isTerminalJob, isTerminalRun } from '../../core/types.ts';
import type { ChainrEvent, EventHub } from '../../store/events.ts';
import { HttpError, resource } from './errors.ts';
import { mustGetRun, runUid, type SchedContext } from './lookup.ts';
import { errorResponses, uidParams } from './schemas.ts';
import { openSse } from './sse.ts';
import { runView } from './views.ts';

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
  const { runs, logs, events, options } = ctx;

  resource(app, '/api/events', {
    GET: {
      schema: {
        summary:
          'Every run and job transition, as Server-Sent Events (resumable with Last-Event-ID)',
        tags: ['events'],
      },
      handler: async (request, reply) => {
        const lastId = request.headers['last-event-id'];
        // The stream opens once the hub listens: every event written after the client sees the
        // answer reaches it.
        const subscription = await held(events, () => true);
        const stream = openSse(request, reply);
        stream.onClose(subscription.unsubscribe);
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
          "A run's transitions as Server-Sent Events: first a `run` event with the whole run, then " +
          '`job` and `run` events as they happen, and `end` once the run has ended',
        tags: ['events'],
        params: uidParams,
        response: errorResponses(404, 503),
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        // Subscribed (the hub's position fixed) before the snapshot is read: no event is lost
        // between the two, and none handed over is older than the snapshot.
        const subscription = await held(events, (e) => e.uid === uid);
        let run;
        try {
          run = await mustGetRun(runs, uid);
        } catch (err) {
          subscription.unsubscribe();
          throw err;
        }
        const stream = openSse(request, reply);
        stream.onClose(subscription.unsubscribe);
        stream.send('run', runView(run, { withPipeline: false }));
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
        summary: "A job's log as plain text; with follow=true, streamed until the job ends",
        tags: ['logs'],
        params: {
          type: 'object',
          properties: { ...uidParams.properties, name: { type: 'string' } },
          required: ['uid', 'name'],
        },
        querystring: {
          type: 'object',
          properties: { follow: { type: 'boolean', default: false } },
        },
        response: errorResponses(404, 503),
      },
      handler: async (request, reply) => {
        const uid = runUid(request);
        const { name } = request.params as { name: string };
        const { follow } = request.query as { follow: boolean };
        const run = await mustGetRun(runs, uid);
        const job = run.jobs.find((j) => j.name === name);
        if (!job) throw new HttpError(404, `run ${uid} has no job "${name}"`);
        if (!follow) {
          const lines = (await logs.readAll(uid, name)).map((l) => l.line);
          return reply
            .type('text/plain; charset=utf-8')
            .send(lines.length ? `${lines.join('\n')}\n` : '');
        }
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/plain; charset=utf-8',
          'x-accel-buffering': 'no',
        });
        const blocking = options.connectBlocking();
        let open = true;
        res.on('close', () => {
          open = false;
          blocking.disconnect();
        });
        let after = '0-0';
        try {
          while (open) {
            // The status is read before the lines: once it says ended, every line is already in
            // the stream (workers flush logs before recording the result), so one more read ends it.
            const ended = isTerminalJob((await runs.jobStatus(uid, name)) ?? 'CANCELED');
            const batch = ended
              ? await logs.readAll(uid, name, after === '0-0' ? '-' : after)
              : await logs.waitFor(blocking, uid, name, after, 1000);
            for (const l of batch) res.write(`${l.line}\n`);
            after = batch[batch.length - 1]?.id ?? after;
            if (ended) break;
          }
        } catch (err) {
          if (open) request.log.warn({ err }, 'log follow interrupted');
        } finally {
          blocking.disconnect();
          res.end();
        }
      },
    },
  });
}
