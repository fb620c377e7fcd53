/** Raw HTTP to the simulator, for tests of its wire protocol (what client libraries hide). */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeSim } from './simulator.ts';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export function raw(
  sim: KubeSim,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; contentType?: string } = {},
): Promise<RawResponse> {
  const url = new URL(path, sim.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? sim.token}`;
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    // A connection of its own (no pooled keep-alive socket): a request made while the server is
    // down is refused, rather than written to a socket the server has closed.
    const options = { method, headers, agent: false, ...(sim.caCert && { ca: sim.caCert }) };
    const req = request(url, options, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: <T>() => JSON.parse(text) as T,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a watch and collects its events until `count` arrived or the server ends it. */
export function watchEvents(
  sim: KubeSim,
  path: string,
  count: number,
  timeoutMs = 5000,
): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const url = new URL(path, sim.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const events: { type: string; object: Record<string, unknown> }[] = [];
    let buffer = '';
    const req = request(
      url,
      { headers: { authorization: `Bearer ${sim.token}` }, ...(sim.caCert && { ca: sim.caCert }) },
      (res) => {
        const done = () => {
          clearTimeout(timer);
          req.destroy();
          resolve(events);
        };
        res.on('data', (d: Buffer) => {
          buffer += d.toString();
          for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
            events.push(JSON.parse(buffer.slice(0, i)) as (typeof events)[number]);
            buffer = buffer.slice(i + 1);
          }
          if (events.length >= count) done();
        });
        res.on('end', done);
        res.on('error', () => undefined);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve(events);
    }, timeoutMs);
    req.on('error', (err) => (events.length ? resolve(events) : reject(err)));
    req.end();
  });
}
