/**
 * What the local executor leaves on its host while jobs run — each job's process group and
 * working directory — recorded in a file per worker process, so that nothing outlives the worker:
 * - its own exit ends every recorded group, however it exits (a stop that cannot finish because
 *   Redis is down included): endRecordedJobs, from an exit hook;
 * - a worker killed outright (SIGKILL, out of memory) cannot: the next worker to start on the
 *   host ends its groups and removes its directories (reapDeadWorkers).
 * A process is named by its pid and its start time (from /proc), so that a pid used again by an
 * unrelated process is never taken for a recorded one.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

interface RecordedGroup {
  /** The job's process group: its leader's pid (`sh -c`, started in a session of its own). */
  pgid: number;
  /** The leader's start time, in clock ticks since boot ('' without /proc). */
  started: string;
}

interface WorkerRecord {
  pid: number;
  started: string;
  groups: RecordedGroup[];
  dirs: string[];
}

const RECORD = /^worker-(\d+)-(\d*)-\d+\.json$/;

/** Executors of this process so far: each has a record of its own. */
let recordsMade = 0;

/** Fields of /proc/<pid>/stat after the command name: [0] state, [2] pgrp, [19] start time. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A process's start time, '' when it cannot be read (no such process, or no /proc). */
export function startTime(pid: number): string {
  return procStat(pid)?.[19] ?? '';
}

function alive(pid: number, started: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, as another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return started === '' || startTime(pid) === started;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone already.
  }
}

/**
 * Ends a recorded group: its leader, when it is the one recorded, takes the whole group; without
 * it, each process still in the group that started no earlier than it (a pid is not given to a
 * new process while a group of that number exists, so these are the job's).
 */
function endGroup(group: RecordedGroup): void {
  if (alive(group.pgid, group.started)) {
    kill(-group.pgid, 'SIGKILL');
    return;
  }
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return; // no /proc: only the leader could be checked
  }
  for (const name of pids) {
    const stat = procStat(Number(name));
    if (!stat || Number(stat[2]) !== group.pgid) continue;
    if (group.started === '' || Number(stat[19]) >= Number(group.started))
      kill(Number(name), 'SIGKILL');
  }
}

export class LocalRecords {
  private readonly file: string;
  private readonly record: WorkerRecord;

  constructor(private readonly dir: string) {
    const started = startTime(process.pid);
    recordsMade += 1;
    this.file = join(dir, `worker-${process.pid}-${started}-${recordsMade}.json`);
    this.record = { pid: process.pid, started, groups: [], dirs: [] };
  }

  addDir(dir: string): void {
    this.record.dirs.push(dir);
    this.save();
  }

  removeDir(dir: string): void {
    this.record.dirs = this.record.dirs.filter((d) => d !== dir);
    this.save();
  }

  addGroup(pgid: number): void {
    this.record.groups.push({ pgid, started: startTime(pgid) });
    this.save();
  }

  removeGroup(pgid: number): void {
    this.record.groups = this.record.groups.filter((g) => g.pgid !== pgid);
    this.save();
  }

  /**
   * Written whole and renamed into place: a reader never sees half a record. The directory exists
   * only while some worker has something recorded (nothing is left in the temporary directory),
   * so a write that finds it just removed by another worker makes it again, once.
   */
  private save(): void {
    if (this.record.groups.length === 0 && this.record.dirs.length === 0) {
      rmSync(this.file, { force: true });
      try {
        rmdirSync(this.dir);
      } catch {
        // another worker's record is there, or the directory is gone already
      }
      return;
    }
    try {
      this.write();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.write();
    }
  }

  private write(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const partial = `${this.file}.partial`;
    writeFileSync(partial, JSON.stringify(this.record), { mode: 0o600 });
    renameSync(partial, this.file);
  }
}

function readRecord(file: string): WorkerRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as WorkerRecord;
  } catch {
    return undefined; // removed meanwhile, or not ours
  }
}

function endRecord(dir: string, name: string, record: WorkerRecord): void {
  for (const group of record.groups) endGroup(group);
  for (const d of record.dirs) rmSync(d, { recursive: true, force: true });
  rmSync(join(dir, name), { force: true });
}

/**
 * Ends the groups and removes the directories that this process's workers recorded in `dir`
 * (synchronous: for an exit hook).
 */
export function endRecordedJobs(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = RECORD.exec(name);
    if (Number(match?.[1]) !== process.pid) continue;
    const record = readRecord(join(dir, name));
    if (record) endRecord(dir, name, record);
  }
}

/** What reapDeadWorkers ended. */
export interface Reaped {
  workers: number;
  groups: number;
  dirs: number;
}

/** Ends what workers that are no longer running recorded in `dir`. */
export function reapDeadWorkers(dir: string): Reaped {
  const reaped: Reaped = { workers: 0, groups: 0, dirs: 0 };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return reaped;
  }
  for (const name of names) {
    const match = RECORD.exec(name);
    if (!match || alive(Number(match[1]), match[2] ?? '')) continue;
    const record = readRecord(join(dir, name));
    if (!record) continue;
    endRecord(dir, name, record);
    reaped.workers += 1;
    reaped.groups += record.groups.length;
    reaped.dirs += record.dirs.length;
  }
  return reaped;
}
