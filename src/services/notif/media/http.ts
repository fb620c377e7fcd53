/** A JSON POST with a timeout, its failures described without the address (it may hold a token). */
import { fetch } from 'undici';
import { isPermanentStatus, parseRetryAfter } from '../retry.ts';
import { RefusedDestination, type DestinationPolicy } from './destination.ts';
import { DeliveryError } from './medium.ts';

export interface PostOptions {
  /** Repeat an error code the receiver answered with (Slack answers e.g. `invalid_payload`). */
  quoteErrorCode?: boolean;
  /**
   * A destination the deployment did not choose (a webhook written in a pipeline): connections go
   * through this agent (its address policy), and a failure to connect or to be answered in time is
   * recorded in the same words whatever its cause, so that delivery records, which viewers read,
   * cannot map which ports answer; the cause goes to notif's log only.
   */
  untrusted?: DestinationPolicy;
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${timeoutMs} ms`;
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' ? `connection failed (${code})` : 'request failed';
}

/** POSTs `body`; resolves on a 2xx answer, rejects with a DeliveryError otherwise. */
export async function postJson(
  receiver: string,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  options: PostOptions = {},
): Promise<void> {
  let response: Awaited<ReturnType<typeof fetch>>;
  let text: string;
  try {
    options.untrusted?.checkLiteralHost(url);
    response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'chainr-notif', ...headers },
      // A redirect could send the notification (and its signature) elsewhere: not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      ...(options.untrusted && { dispatcher: options.untrusted.dispatcher }),
    });
    text = await response.text();
  } catch (err) {
    const detail = describeFailure(err, timeoutMs);
    if (!options.untrusted) throw new DeliveryError(`${receiver}: ${detail}`);
    const cause = err instanceof RefusedDestination ? err : (err as { cause?: unknown }).cause;
    if (cause instanceof RefusedDestination)
      throw new DeliveryError(
        `${receiver}: its address is not allowed for webhooks defined in pipelines`,
        true,
        undefined,
        cause.message,
      );
    throw new DeliveryError(
      `${receiver}: not delivered (no connection, or no answer within ${timeoutMs} ms)`,
      false,
      undefined,
      detail,
    );
  }
  if (response.ok) return;
  const code =
    options.quoteErrorCode && /^[a-z_]{1,64}$/.test(text.trim()) ? ` ${text.trim()}` : '';
  throw new DeliveryError(
    `${receiver} answered HTTP ${response.status}${code}`,
    isPermanentStatus(response.status),
    parseRetryAfter(response.headers.get('retry-after'), Date.now()),
  );
}
