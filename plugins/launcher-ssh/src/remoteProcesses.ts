// Liveness of processes on the remote host, batched: the checks asked within a few
// milliseconds of each other (a launcher's poll of all its jobs) share one
// `ps` of the whole process table instead of one command each. A check is only
// answered by a table read after it was asked, so a process started or ended
// before the check is seen as it is.
import type { CommandResult } from '@baton/core';

export interface ProcessEntry {
  pgid: number;
  state: string;
  /** The command line, words joined by spaces. */
  args: string;
}

export type ProcessTable = Map<number, ProcessEntry>;

/** How long checks wait for others to share their table read. */
const GATHER_MS = 5;

// -ww: never cut the command line (the job's directory is in it).
const PS_ARGV = ['ps', '-A', '-ww', '-o', 'pid=,pgid=,stat=,args='];

export class RemoteProcesses {
  readonly #run: (argv: string[]) => Promise<CommandResult>;
  /** The next table read, not started yet: checks asked now join it. */
  #gathering: Promise<ProcessTable> | undefined;
  /** Table reads so far (for tests and benchmarks). */
  reads = 0;

  constructor(run: (argv: string[]) => Promise<CommandResult>) {
    this.#run = run;
  }

  async isProcessAlive(pid: number, commandLineIncludes?: string): Promise<boolean> {
    const entry = (await this.#table()).get(pid);
    if (!entry || exited(entry.state)) return false;
    return commandLineIncludes === undefined || entry.args.includes(commandLineIncludes);
  }

  async isProcessGroupAlive(pgid: number): Promise<boolean> {
    for (const entry of (await this.#table()).values()) if (entry.pgid === pgid && !exited(entry.state)) return true;
    return false;
  }

  #table(): Promise<ProcessTable> {
    this.#gathering ??= new Promise<void>((resolve) => setTimeout(resolve, GATHER_MS)).then(() => {
      // From here on, checks wait for the next read: this one may predate them.
      this.#gathering = undefined;
      return this.#read();
    });
    return this.#gathering;
  }

  async #read(): Promise<ProcessTable> {
    this.reads++;
    const result = await this.#run(PS_ARGV);
    if (result.code !== 0) throw new Error(`ps failed on the host: ${result.stderr.trim() || `exit code ${result.code}`}`);
    return parseProcessTable(result.stdout);
  }
}

export function parseProcessTable(text: string): ProcessTable {
  const table: ProcessTable = new Map();
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s?(.*)$/.exec(line);
    if (match) table.set(Number(match[1]), { pgid: Number(match[2]), state: match[3]!, args: match[4] ?? '' });
  }
  return table;
}

/** Z: zombie, X: dead; both have exited. */
function exited(state: string): boolean {
  return state.startsWith('Z') || state.startsWith('X');
}
