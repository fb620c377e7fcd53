/**
 * The bearer token the UI sends when chainr runs with auth on. Kept for the browser session
 * (sessionStorage), or across sessions when the user asks (localStorage); never in addresses.
 */

const KEY = 'chainr.token';
const listeners = new Set<() => void>();

function read(storage: () => Storage): string | undefined {
  try {
    return storage().getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function getToken(): string | undefined {
  return read(() => sessionStorage) ?? read(() => localStorage);
}

export function setToken(token: string | undefined, remember = false): void {
  try {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
    if (token) (remember ? localStorage : sessionStorage).setItem(KEY, token);
  } catch {
    // storage unavailable: the token lasts until the page is closed, through the reload below
  }
}

/** Tells the app that the API asked for a (better) token. */
export function reportUnauthorized(): void {
  for (const listener of listeners) listener();
}

export function onUnauthorized(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
