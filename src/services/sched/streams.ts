/** The streaming endpoints: run events and all events over SSE, job logs (optionally followed). */
import type { FastifyInstance } from 'fastify';
import { isTerminalJob, isTerminalRun } from '../../core/types.ts';
import type { ChainrEvent } from '../../store/events.ts';
import { HttpError, resource } from './errors.ts';
import { mustGetRun, runUid, type SchedContext } from './lookup.ts';
import { errorResponses, uidParams } from './schemas.ts';
import { openSse } from './sse.ts';
import { runView } from './views.ts';

const eventName = (e: ChainrEvent) => (e.job === undefined ? 'run' : 'job');

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
        const stream = openSse(request, reply);
        const unsubscribe = events.subscribe((e) => stream.send(eventName(e), e, e.id));
        stream.onClose(unsubscribe);
        if (typeof lastId === 'string' && /^\d+-\d+$/.test(lastId)) {
          for (const e of await events.since(options.redis, lastId))
            stream.send(eventName(e), e, e.id);
        }
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
        // Subscribe before reading the snapshot, so that nothing between the two is lost.
        const pending: ChainrEvent[] = [];
        let deliver = (e: ChainrEvent) => void pending.push(e);
        const unsubscribe = events.subscribe((e) => {
          if (e.uid === uid) deliver(e);
        });
        let run;
        try {
          run = await mustGetRun(runs, uid);
        } catch (err) {
          unsubscribe();
          throw err;
        }
        const stream = openSse(request, reply);
        stream.onClose(unsubscribe);
        stream.send('run', runView(run, { withPipeline: false }));
        if (isTerminalRun(run.status)) {
          stream.send('end', { uid, status: run.status });
          return stream.close();
        }
        deliver = (e) => {
          stream.send(eventName(e), e, e.id);
          if (e.job === undefined && isTerminalRun(e.status as never)) {
            stream.send('end', { uid, status: e.status });
            stream.close();
          }
        };
        for (const e of pending.splice(0)) deliver(e);
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
