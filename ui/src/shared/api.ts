/**
 * The UI's client of the chainr API (src/api/client.ts): the page's own origin, the bearer token
 * when there is one; a 401 asks the user for a token.
 */
import { ChainrClient, UnreachableError } from '../../../src/api/client.ts';
import { getToken, reportUnauthorized } from './auth.ts';

export const api = new ChainrClient({ token: getToken, onUnauthorized: reportUnauthorized });

export function errorMessage(err: unknown): string {
  if (err instanceof UnreachableError) return 'chainr is not reachable; check that it is running';
  if (err instanceof Error) return err.message;
  return String(err);
}
