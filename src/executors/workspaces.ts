/**
 * Run workspaces on this host's disk: one directory per run under a root (by default
 * `<data directory>/workspaces`), made by the first job that uses it and removed with the run
 * (recycle: retention, and runs that no longer exist).
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Run uids as sched makes them; anything else never names a directory. */
const RUN_UID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export interface RunDirectory {
  uid: string;
  /** ms since epoch. */
  modifiedAt: number;
}

export class RunDirectories {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  pathOf(uid: string): string {
    if (!RUN_UID.test(uid)) throw new Error(`not a run uid: ${JSON.stringify(uid)}`);
    return join(this.root, uid);
  }

  /** The run's directory, made if it does not exist yet. */
  async prepare(uid: string): Promise<string> {
    const path = this.pathOf(uid);
    await mkdir(path, { recursive: true });
    return path;
  }

  async remove(uid: string): Promise<void> {
    await rm(this.pathOf(uid), { recursive: true, force: true });
  }

  /** The runs that have a directory here. */
  async list(): Promise<RunDirectory[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return []; // no root yet: no run has used one
    }
    const found: RunDirectory[] = [];
    for (const uid of names.filter((n) => RUN_UID.test(n))) {
      const info = await stat(join(this.root, uid)).catch(() => undefined);
      if (info?.isDirectory()) found.push({ uid, modifiedAt: info.mtimeMs });
    }
    return found;
  }
}
