/** A JSON POST with a timeout, its failures described without the address (it may hold a token). */
import { isPermanentStatus, parseRetryAfter } from '../retry.ts';
import { DeliveryError } from './medium.ts';

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
  /** Repeat an error code the receiver answered with (Slack answers e.g. `invalid_payload`). */
  quoteErrorCode = false,
): Promise<void> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'chainr-notif', ...headers },
      // A redirect could send the notification (and its signature) elsewhere: not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    throw new DeliveryError(`${receiver}: ${describeFailure(err, timeoutMs)}`);
  }
  if (response.ok) return;
  const code = quoteErrorCode && /^[a-z_]{1,64}$/.test(text.trim()) ? ` ${text.trim()}` : '';
  throw new DeliveryError(
    `${receiver} answered HTTP ${response.status}${code}`,
    isPermanentStatus(response.status),
    parseRetryAfter(response.headers.get('retry-after'), Date.now()),
  );
}
