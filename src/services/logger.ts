/** The services' logger: JSON lines (pino), with secrets redacted. */
import { pino, type Logger } from 'pino';
import type { Config } from '../config.ts';

export function makeLogger(config: Config, service: string): Logger {
  return pino({
    level: config.logLevel,
    base: { service, pid: process.pid },
    // Bearer tokens and cookies never reach the logs (gate: docs/SECURITY.md).
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        '*.headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
