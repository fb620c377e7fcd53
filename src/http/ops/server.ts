/**
 * The ops HTTP server of the services that serve no HTTP of their own (work, notif, recycle):
 * only /healthz, /readyz and /metrics, on CHAINR_OPS_HOST:CHAINR_OPS_PORT.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ConfigError } from '../../config.ts';
import { auth } from '../auth/plugin.ts';
import type { TokenEntry } from '../auth/tokens.ts';
import { installErrorHandling } from '../errors.ts';
import { serverTimeouts, type HttpTimeouts } from '../timeouts.ts';
import { registerOpsRoutes, type OpsRoutesOptions } from './routes.ts';

export interface OpsServerOptions extends OpsRoutesOptions {
  host: string;
  /** 0: a free port. */
  port: number;
  /** When there are tokens, /metrics needs a viewer's (as on sched); the probes stay public. */
  tokens: TokenEntry[];
  /** With auth off, the names besides loopback and IP literals that may be addressed. */
  allowedHosts: string[];
  httpTimeouts?: HttpTimeouts;
  logger: FastifyBaseLogger;
}

export async function startOpsServer(
  options: OpsServerOptions,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({
    loggerInstance: options.logger,
    ...serverTimeouts(options.httpTimeouts),
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  installErrorHandling(app, 0);
  // No rate limit or CORS: nothing here changes state, and probes must never be refused.
  await app.register(auth, {
    tokens: options.tokens,
    corsOrigins: [],
    allowedHosts: options.allowedHosts,
  });
  registerOpsRoutes(app, options);
  const url = await listen(app, options.host, options.port).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new ConfigError(
      `CHAINR_OPS_PORT: port ${options.port} is in use on ${options.host}; set another port, or 0 ` +
        'for a free one (several work, notif or recycle processes on one machine)',
    );
  });
  options.logger.info({ url }, 'ops server listening (/healthz, /readyz, /metrics)');
  return { app, url };
}

/** Listens, and answers the address listened on (the actual port when asked for port 0). */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
}
