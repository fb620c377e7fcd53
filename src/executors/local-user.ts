/**
 * The user local jobs run as (CHAINR_LOCAL_USER): a name from the host's user database, or a
 * numeric `uid[:gid]`. Running jobs as another user needs a worker running as root; a job user
 * that is root itself would protect nothing.
 */
import { readFileSync } from 'node:fs';
import type { JobUser } from './local.ts';

/** `passwd`: the text of /etc/passwd. */
export function parseJobUser(spec: string, passwd: string): JobUser | string {
  const numeric = /^(\d+)(?::(\d+))?$/.exec(spec);
  const entries = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 4);
  let user: JobUser | undefined;
  if (numeric) {
    const uid = Number(numeric[1]);
    const entry = entries.find((f) => Number(f[2]) === uid);
    const gid = numeric[2] !== undefined ? Number(numeric[2]) : Number(entry?.[3] ?? uid);
    user = { name: entry?.[0] ?? spec, uid, gid };
  } else {
    const entry = entries.find((f) => f[0] === spec);
    if (!entry) return `no user "${spec}" on this host (expected a user name or uid[:gid])`;
    user = { name: spec, uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  if (user.uid === 0 || user.gid === 0)
    return `"${spec}" is root or in group root: jobs must run as an unprivileged user`;
  return user;
}

/**
 * The job user, or why it cannot be used here. `workerUid`: this process's user (only root may
 * start processes as another user).
 */
export function resolveJobUser(spec: string, workerUid: number): JobUser | string {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // No user database: only numeric ids can be given.
  }
  const user = parseJobUser(spec, passwd);
  if (typeof user === 'string') return user;
  if (workerUid !== 0 && workerUid !== user.uid)
    return `running jobs as ${user.name} needs a worker running as root (this one runs as uid ${workerUid})`;
  return user;
}
