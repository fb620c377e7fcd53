/**
 * The CLI's API client and watcher against a scripted HTTP server, for what a real chainr does
 * not do on demand: odd answers, dropped and silent connections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, ChainrClient, UnreachableError } from '../src/api/client.ts';
import { normalizeServer } from '../src/cli/context.ts';
import { freePort } from '../src/process/private-redis.ts';
import { ServerClock, watchRun, type WatchView } from '../src/cli/watch.ts';
import type { RunState, Transition } from '../src/cli/watch-state.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];

async function serve(handler: Handler): Promise<ChainrClient & { requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return Object.assign(new ChainrClient({ server: `http://127.0.0.1:${port}`, token: 's3cret' }), {
    requests,
  });
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

const UID = '01900000-0000-7000-8000-000000000001';
const T0 = Date.UTC(2024, 0, 1);
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const run = (status: string, job: string, extra: object = {}) => ({
  kind: 'Run',
  metadata: { uid: UID },
  status,
  createdAt: iso(0),
  startedAt: iso(1),
  ...extra,
  jobs: [
    {
      name: 'a',
      status: job,
      startedAt: iso(1),
      ...(job !== 'RUNNING' && { finishedAt: iso(50) }),
    },
  ],
});
const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

describe('ChainrClient', () => {
  it('sends the token, and turns Error answers into ApiErrors with their details', async () => {
    const client = await serve((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Error',
          error: 'invalid pipeline: x',
          details: [{ path: 'jobs', message: 'x' }],
        }),
      );
    });
    const err = await client.submit({ kind: 'Pipeline' }, { a: '1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 400,
      message: 'invalid pipeline: x',
      details: [{ path: 'jobs', message: 'x' }],
    });
    expect(client.requests[0]?.headers.authorization).toBe('Bearer s3cret');
    expect(client.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('describes answers that are not the API’s (a proxy’s error page)', async () => {
    const client = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>\n  <body>Bad gateway</body></html>');
    });
    await expect(client.getRun(UID)).rejects.toThrow(
      'the server answered 502 Bad Gateway: <html> <body>Bad gateway</body></html>',
    );
  });

  it('answers UnreachableError when nothing listens', async () => {
    const client = new ChainrClient({ server: `http://127.0.0.1:${await freePort()}` });
    const err = await client.listRuns().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as UnreachableError).reason).toBe('connection refused');
  });

  it('reads an event stream written in pieces, ignoring what it does not know', async () => {
    const client = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const text = `: hello\n\n${sse('run', run('RUNNING', 'RUNNING'))}event: future\ndata: {}\n\nid: 7-0\n${sse('job', { uid: UID, job: 'a', status: 'SUCCESSFUL', time: T0 + 50 })}${sse('end', { uid: UID })}`;
      for (let i = 0; i < text.length; i += 7) res.write(text.slice(i, i + 7));
      res.end();
    });
    const items = [];
    for await (const item of client.runEvents(UID)) items.push(item);
    expect(items.map((i) => i.kind)).toEqual(['snapshot', 'transition', 'end']);
    expect(items[1]).toEqual({
      kind: 'transition',
      event: { id: '7-0', uid: UID, job: 'a', status: 'SUCCESSFUL', time: T0 + 50 },
    });
  });

  it('gives up on a stream that stays silent', async () => {
    const client = await serve((_req, res) => res.writeHead(200).flushHeaders());
    const consume = async () => {
      for await (const _ of client.runEvents(UID, { idleMs: 200 })) void _;
    };
    await expect(consume()).rejects.toThrow(/no event or keep-alive for 0.2 s/);
  });

  it('normalizes server addresses', () => {
    expect(normalizeServer('localhost:8080')).toBe('http://localhost:8080');
    expect(normalizeServer('https://chainr.example.com/')).toBe('https://chainr.example.com');
    expect(() => normalizeServer('ftp://x')).toThrow(/http:\/\/ or https:\/\//);
  });
});

describe('watchRun', () => {
  it('reconnects when the stream drops, and ends with the run as the server has it', async () => {
    let connections = 0;
    const client = await serve((req, res) => {
      if (req.url?.endsWith('/events')) {
        connections++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (connections === 1) {
          res.write(sse('run', run('RUNNING', 'RUNNING')));
          setTimeout(() => res.destroy(), 50); // a server restart, say
        } else {
          res.end(sse('run', run('SUCCESSFUL', 'SUCCESSFUL', { finishedAt: iso(60) })));
        }
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(run('SUCCESSFUL', 'SUCCESSFUL', { finishedAt: iso(60) })));
    });
    const seen: Transition[] = [];
    const notes: (string | undefined)[] = [];
    const view: WatchView = {
      update: (_s: RunState, t: Transition[]) => seen.push(...t),
      note: (n) => notes.push(n),
      finish: () => undefined,
      stop: () => undefined,
    };
    const state = await watchRun(client, UID, view, {
      signal: new AbortController().signal,
      clock: new ServerClock(),
    });
    expect(state.status).toBe('SUCCESSFUL');
    expect(connections).toBe(2);
    expect(notes[0]).toMatch(/^connection lost \(connection lost\); reconnecting…$/);
    expect(notes.at(-1)).toBeUndefined();
    expect(seen.map((t) => `${t.job ?? 'run'} ${t.status}`)).toEqual([
      'run RUNNING',
      'a RUNNING',
      'a SUCCESSFUL',
      'run SUCCESSFUL',
    ]);
  });
});

describe('ServerClock', () => {
  it('takes the least delayed event as the measure of the offset', () => {
    const clock = new ServerClock();
    expect(clock.now(1000)).toBe(1000);
    clock.observe(900, 1000); // 100 ms late, or the clocks differ by 100 ms
    clock.observe(990, 1010);
    expect(clock.now(2000)).toBe(1980);
  });
});
