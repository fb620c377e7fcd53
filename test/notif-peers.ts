/** Real peers for the notif tests: an HTTP receiver, notif started from a YAML configuration. */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { connect } from '../src/store/connection.ts';
import { makeKeys } from '../src/store/keys.ts';
import { parseNotifyConfig } from '../src/services/notif/config-file.ts';
import { startNotif, type NotifService } from '../src/services/notif/service.ts';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received (what a signature covers). */
  body: string;
  json: Record<string, unknown>;
}

/** What to answer: a status (and body), or `hang` to never answer. */
export type Answer =
  number | { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  on(path: string, respond: (r: Received, nth: number) => Answer): void;
  close(): Promise<void>;
}

/** An HTTP server that records every POST; each path answers 200 unless told otherwise. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const handlers = new Map<string, (r: Received, nth: number) => Answer>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // recorded as it is
      }
      const path = req.url ?? '/';
      const r: Received = { path, headers: req.headers, body, json };
      received.push(r);
      const nth = received.filter((x) => x.path === path).length;
      const answer = handlers.get(path)?.(r, nth) ?? 200;
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      const a = typeof answer === 'number' ? { status: answer } : answer;
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers }).end(a.body ?? 'ok');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on: (path, respond) => handlers.set(path, respond),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** notif in this process, configured by a YAML text as `chainr notif` would be. */
export async function startTestNotif(
  redisUrl: string,
  prefix: string,
  yaml: string,
  options: { env?: NodeJS.ProcessEnv; logger?: Logger; consumer?: string } = {},
): Promise<NotifService> {
  const settings = parseNotifyConfig(yaml, 'test.yaml', {
    env: options.env ?? {},
    readFile: () => {
      throw new Error('no files in this test');
    },
  });
  return startNotif({
    connect: () => connect({ url: redisUrl }),
    keys: makeKeys(prefix),
    settings,
    publicUrl: 'https://chainr.example.com',
    logger: options.logger ?? pino({ level: 'silent' }),
    blockMs: 200,
    ...(options.consumer !== undefined && { consumer: options.consumer }),
  });
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface NotificationList {
  kind: string;
  items: {
    metadata: { uid: string };
    event: string;
    run: { uid: string; name?: string };
    job?: string;
    medium: string;
    mediumType: string;
    status: string;
    attempts: number;
    lastError?: string;
  }[];
}

export async function listNotifications(base: string, query = ''): Promise<NotificationList> {
  const res = await fetch(`${base}/api/notifications${query}`);
  if (!res.ok)
    throw new Error(`GET /api/notifications answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as NotificationList;
}
