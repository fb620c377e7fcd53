/** What the client reads from a run's event stream, and the two ways a call can fail. */
import type { ErrorDetail, Run, TransitionEvent } from '../api/wire.ts';

export type RunStreamItem =
  { kind: 'snapshot'; run: Run } | { kind: 'transition'; event: TransitionEvent } | { kind: 'end' };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export class UnreachableError extends Error {
  constructor(
    readonly server: string,
    readonly reason: string,
  ) {
    super(
      `cannot reach the chainr server at ${server} (${reason}). Start one with \`chainr up\`, ` +
        'or point --server or CHAINR_SERVER at yours.',
    );
  }
}

/** Why a request got no answer, in a few words (`connection refused`, `timed out`). */
export function networkReason(err: unknown): string {
  // fetch throws "fetch failed"; what happened is in its cause
  const cause =
    err instanceof Error
      ? (err.cause as { code?: string; message?: string } | undefined)
      : undefined;
  const code = cause?.code ?? (err as { code?: string } | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection lost';
  if (err instanceof Error && (err.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT'))
    return 'timed out';
  if (err instanceof Error && err.message === 'terminated') return 'connection lost';
  return code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
