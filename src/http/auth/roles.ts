/**
 * Which role a request needs. Reads are for viewers; submitting and acting on runs for operators;
 * everything else that changes state (schedules, notifications, anything unknown) for admins.
 */
import type { Role } from './tokens.ts';

// A trailing slash names the same resource (sched ignores it, as the original chainr did).
const OPERATOR_POSTS = [/^\/api\/runs\/?$/, /^\/api\/runs\/[^/]+\/(cancel|retry|resubmit)\/?$/];

/**
 * Answers without any token even when auth is on: the discovery document, the probes (/healthz,
 * /readyz) and the UI's files. /metrics is for viewers: it tells how much runs where.
 */
export function isPublic(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path === '/metrics') return false;
  return path === '/api' || !path.startsWith('/api/');
}

export function requiredRole(method: string, path: string): Role {
  if (method === 'GET' || method === 'HEAD') return 'viewer';
  if (method === 'POST' && OPERATOR_POSTS.some((re) => re.test(path))) return 'operator';
  return 'admin';
}
