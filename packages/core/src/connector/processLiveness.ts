// Whether a token holder's processes still run on this host. A job's life is its
// process group, not one pid: when only its job.sh shell is killed, the command
// it started runs on in the same group. Zombies count as gone: where PID 1 does
// not reap orphans (containers, microVMs), an orphaned command that ended stays a
// zombie in its group for good and would otherwise hold its share forever.
import { access, readdir, readFile } from 'node:fs/promises';

/**
 * Answers for one pass over a token's holders; the process table is read at most
 * once per probe, and only when a group's leader is gone.
 */
export class ProcessProbe {
  #groups: Promise<Map<number, 'live' | 'zombie'>> | undefined;

  /** True while `pid` exists and has not exited (a zombie has). */
  async isProcessAlive(pid: number): Promise<boolean> {
    // 0 and negative pids name process groups, never one holder.
    if (!Number.isInteger(pid) || pid <= 0) return false;
    if (signalZero(pid) === 'none') return false;
    if (!(await hasProcFs())) return true;
    const stat = await readStat(pid);
    return stat !== undefined && !hasExited(stat.state);
  }

  /** True while some process of group `pgid` runs (zombies left out). */
  async isProcessGroupAlive(pgid: number): Promise<boolean> {
    // -1 would ask about every process we may signal; group 1 is init's, never a job's.
    if (!Number.isInteger(pgid) || pgid <= 1) return false;
    const signalled = signalZero(-pgid);
    if (signalled === 'none') return false;
    if (!(await hasProcFs())) return true;
    // Usually the leader (job.sh) still runs: one read, no scan.
    const leader = await readStat(pgid);
    if (leader && leader.pgid === pgid && !hasExited(leader.state)) return true;
    const group = (await (this.#groups ??= readGroups())).get(pgid);
    if (group === 'live') return true;
    // Members exist that we may not signal and cannot see (/proc mounted with hidepid): assume they run.
    return group === undefined && signalled === 'not ours';
  }
}

/** `kill(target, 0)`: whether any process answers to it, and whether it is ours to signal. */
function signalZero(target: number): 'ours' | 'not ours' | 'none' {
  try {
    process.kill(target, 0);
    return 'ours';
  } catch (error) {
    // EPERM: it exists but belongs to someone else; ESRCH: nothing there.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'not ours' : 'none';
  }
}

interface ProcessStat {
  state: string;
  pgid: number;
}

/** Z: zombie, X: dead; both have exited. */
function hasExited(state: string): boolean {
  return state === 'Z' || state === 'X';
}

/** The state of every process group in the process table: live once one member has not exited. */
async function readGroups(): Promise<Map<number, 'live' | 'zombie'>> {
  const groups = new Map<number, 'live' | 'zombie'>();
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const stats = await Promise.all(entries.filter((entry) => /^\d+$/.test(entry)).map((entry) => readStat(Number(entry))));
  for (const stat of stats) {
    if (stat === undefined) continue;
    if (!hasExited(stat.state)) groups.set(stat.pgid, 'live');
    else if (!groups.has(stat.pgid)) groups.set(stat.pgid, 'zombie');
  }
  return groups;
}

/** State and process group from `/proc/<pid>/stat`, or undefined once the process is gone. */
async function readStat(pid: number): Promise<ProcessStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // "pid (command) state ppid pgrp ...": the command may hold spaces and parentheses.
  const [state, , pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const pgid = Number(pgrp);
  return state && Number.isInteger(pgid) ? { state, pgid } : undefined;
}

let procFs: Promise<boolean> | undefined;

/** Whether /proc exists (Linux); elsewhere `kill(pid, 0)` is all there is to ask. */
export function hasProcFs(): Promise<boolean> {
  procFs ??= access('/proc/self/stat').then(
    () => true,
    () => false,
  );
  return procFs;
}
