/**
 * The services' logger, with secrets redacted: JSON lines (pino) for log collectors, or for a
 * person at a terminal (`npm start`), one readable line each, coloured (pino-pretty).
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Config } from '../config.ts';

/** Secrets of this process that no log line may carry, whatever logged them. */
const secrets = new Set<string>();

/**
 * Keeps a secret (a Redis password) out of every log line of this process from now on, as itself
 * and as it appears inside a JSON string.
 */
export function keepOutOfLogs(secret: string | undefined): void {
  if (secret === undefined || secret === '') return;
  secrets.add(secret);
  secrets.add(JSON.stringify(secret).slice(1, -1));
}

function scrub(line: string): string {
  let out = line;
  for (const secret of secrets)
    if (out.includes(secret)) out = out.replaceAll(secret, '[redacted]');
  return out;
}

/**
 * An error as pino shows it, without the arguments of the Redis command it carries: ioredis
 * attaches the command that failed (`command: {name, args}`), and when the connection's AUTH is
 * refused (Redis at maxclients, a wrong password) every command waiting on it fails with the AUTH
 * command's error, whose argument is the password.
 */
function errWithoutCommandArgs(err: Error): Record<string, unknown> {
  const shown = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  const command = shown.command as { name?: unknown; args?: unknown } | undefined;
  if (command && typeof command === 'object' && 'args' in command)
    shown.command = { name: command.name, args: '[redacted]' };
  return shown;
}

/** The password in a redis:// URL, if any. */
function urlPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the logs go to a person: the process's standard output is a terminal. */
const logsToTerminal = (): boolean =>
  isMainThread
    ? process.stdout.isTTY === true
    : (workerData as { stdoutIsTTY?: boolean } | null)?.stdoutIsTTY === true;

export function makeLogger(config: Config, service: string, pretty = logsToTerminal()): Logger {
  keepOutOfLogs(config.redis.password);
  keepOutOfLogs(urlPassword(config.redis.url));
  const options = {
    level: config.logLevel,
    base: { service, pid: process.pid },
    serializers: { err: errWithoutCommandArgs },
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
    hooks: { streamWrite: scrub },
  };
  if (!pretty) return pino(options);
  // Synchronous, as pino's own destination is by default: a line is out before the next starts.
  return pino(options, PinoPretty({ colorize: true, sync: true, ignore: 'pid,hostname' }));
}
