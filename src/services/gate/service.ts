/**
 * `chainr gate`: the single entry point. /api/* is proxied to the sched upstreams; everything
 * else is the monitoring UI's static files (src/http/ui-static.ts) with its SPA fallback.
 * Auth, limits and security headers come from the auth plugin, as on sched.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../../config.ts';
import { installErrorHandling } from '../../http/errors.ts';
import { serverTimeouts, type HttpTimeouts } from '../../http/timeouts.ts';
import { registry } from '../../http/ops/metrics.ts';
import { registerOpsRoutes } from '../../http/ops/routes.ts';
import { uiStatic } from '../../http/ui-static.ts';
import { auth } from '../../http/auth/plugin.ts';
import { proxyHandler } from './proxy.ts';
import type { SecuritySettings } from '../../http/auth/security.ts';
import { UpstreamPool } from './upstreams.ts';

export interface GateOptions {
  upstreams: readonly string[];
  healthIntervalMs: number;
  bodyLimitBytes: number;
  httpTimeouts?: HttpTimeouts;
  security: SecuritySettings;
  logger: FastifyBaseLogger;
  /** The built UI; defaults to ui/dist. */
  uiRoot?: string;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export async function buildGate(options: GateOptions): Promise<FastifyInstance> {
  if (options.upstreams.length === 0)
    throw new ConfigError('CHAINR_UPSTREAMS: list the sched instances, e.g. http://sched:8080');
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    ...serverTimeouts(options.httpTimeouts),
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  const pool = new UpstreamPool(options.upstreams, options.logger, options.healthIntervalMs);
  pool.start();
  app.addHook('onClose', () => pool.stop());

  installErrorHandling(app, options.bodyLimitBytes);
  // Bodies are passed on as they came (the upstream parses them), kept whole so that a request
  // can be retried on another upstream; the body limit applies here already.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(auth, options.security);

  registerOpsRoutes(app, {
    // Ready while it has an upstream to send /api to.
    checks: { upstreams: () => pool.upstreams.some((u) => u.healthy) },
    registries: [registry],
    details: () => ({
      // In CHAINR_UPSTREAMS order; addresses are not shown to the public.
      upstreams: pool.upstreams.map((u) => ({ healthy: u.healthy, requests: u.requests })),
    }),
  });
  const proxy = proxyHandler(pool);
  app.route({ method: [...METHODS], url: '/api', handler: proxy });
  app.route({ method: [...METHODS], url: '/api/*', handler: proxy });
  await app.register(uiStatic, options.uiRoot === undefined ? {} : { root: options.uiRoot });
  return app;
}

export async function runGate(
  config: Config,
  logger: Logger,
  security: SecuritySettings,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildGate({
    upstreams: config.gate.upstreams,
    healthIntervalMs: config.gate.healthIntervalMs,
    bodyLimitBytes: config.bodyLimitBytes,
    httpTimeouts: config.httpTimeouts,
    security,
    logger,
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { app, url: `http://${host}:${port}` };
}
