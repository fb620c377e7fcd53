/** Helpers of the ops tests: where an ops server listens, reading Prometheus text, a webhook. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The address a service's ops server logged (at LOG_LEVEL=info), once it has. */
export function opsUrl(output: string): string | undefined {
  return /"url":"([^"]+)"[^\n]*ops server listening/.exec(output)?.[1];
}

/** The value of the sample `name{labels}` whose labels include all of `labels`, if there is one. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample || sample[1] !== name) continue;
    const own = new Map(
      [...(sample[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => own.get(k) === v)) return Number(sample[3]);
  }
  return undefined;
}

/** A webhook endpoint on a free loopback port that answers 204 and counts what it received. */
export async function webhookReceiver(): Promise<{
  url: string;
  received(): number;
  close(): Promise<void>;
}> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received: () => received,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
