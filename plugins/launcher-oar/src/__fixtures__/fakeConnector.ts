// A Connector for unit tests: records every argv and answers from handlers the
// test installs; files live in a Map. The launcher's only seam to the host.
// FakeOar installs oarsub, oarstat and oardel handlers that answer as OAR 2.5.9
// does (text and JSON shapes copied from a real one), over a table of jobs.
import type { CommandResult, Connector, DirectoryEntry, RunCommandOptions } from '@baton/core';

export type CommandHandler = (argv: readonly string[], options: RunCommandOptions | undefined) => Partial<CommandResult> | Promise<Partial<CommandResult>>;

export class FakeConnector implements Connector {
  readonly kind = 'fake';
  readonly hostname = 'frontend';
  readonly commands: { argv: string[]; options: RunCommandOptions | undefined }[] = [];
  readonly files = new Map<string, string>();
  readonly modes = new Map<string, number>();
  readonly directories = new Set<string>();
  readonly #handlers = new Map<string, CommandHandler>();

  /** Answers every call of `command` (oarsub, oarstat...). Unhandled commands fail as "not found". */
  on(command: string, handler: CommandHandler): this {
    this.#handlers.set(command, handler);
    return this;
  }

  /** Argv of the calls of one command. */
  calls(command: string): string[][] {
    return this.commands.filter(({ argv }) => argv[0] === command).map(({ argv }) => argv);
  }

  async run(argv: readonly string[], options?: RunCommandOptions): Promise<CommandResult> {
    this.commands.push({ argv: [...argv], options });
    const handler = this.#handlers.get(argv[0]!);
    if (!handler) throw Object.assign(new Error(`spawn ${argv[0]} ENOENT`), { code: 'ENOENT' });
    const result = await handler(argv, options);
    return { code: 0, signal: null, stdout: '', stderr: '', ...result };
  }

  async spawnDetached(): Promise<{ pid: number }> {
    throw new Error('the OAR launcher never spawns processes itself');
  }
  async isProcessAlive(): Promise<boolean> {
    return false;
  }
  async isProcessGroupAlive(): Promise<boolean> {
    return false;
  }
  async killProcessGroup(): Promise<void> {}
  async readFile(path: string): Promise<string> {
    const text = this.files.get(path);
    if (text === undefined) throw new Error(`ENOENT: ${path}`);
    return text;
  }
  async readFileIfExists(path: string): Promise<string | undefined> {
    return this.files.get(path);
  }
  async writeFile(path: string, data: string, options?: { mode?: number }): Promise<void> {
    this.files.set(path, data);
    if (options?.mode !== undefined) this.modes.set(path, options.mode);
  }
  async appendFile(path: string, data: string): Promise<void> {
    this.files.set(path, (this.files.get(path) ?? '') + data);
  }
  async mkdir(path: string): Promise<void> {
    this.directories.add(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.files.set(to, await this.readFile(from));
    this.files.delete(from);
  }
  async exists(path: string): Promise<boolean> {
    return this.files.has(path) || this.directories.has(path);
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
  async rmdir(path: string): Promise<void> {
    this.directories.delete(path);
  }
  async readdir(): Promise<string[]> {
    return [];
  }
  async listDirectory(): Promise<DirectoryEntry[]> {
    return [];
  }
  async symlink(): Promise<void> {}
  async readlink(): Promise<string | undefined> {
    return undefined;
  }
  async lock(): Promise<() => Promise<void>> {
    return async () => {};
  }
  resolve(path: string): string {
    return path;
  }
}

/** One event of a job, as `oarstat -f -J` prints it. */
export interface FakeOarEvent {
  type: string;
  description: string;
  date: number;
}

/** A job in FakeOar's table: what `oarstat -f -J` reports of it. */
export interface FakeOarJob {
  id: number;
  name: string | null;
  /** The command OAR runs (an array task's: the command, a space, its parameter line). */
  command: string;
  /** The oarsub argv that created it (empty for jobs a test adds). */
  argv: string[];
  arrayId: number;
  arrayIndex: number;
  state: string;
  /** Raw wait status; null until it ends, and in Error. */
  exitCode: number | null;
  message: string;
  submissionTime: number;
  startTime: number;
  stopTime: number;
  walltime: number;
  scheduledStart: number | null;
  hosts: string[];
  events: FakeOarEvent[];
}

/** What the next oarsub call answers instead of OAR; `reachesOar`: its jobs are registered all the same (an oarsub killed after the server took them). */
export type OarsubFault = Partial<CommandResult> & { reachesOar?: boolean };

/** The line OAR 2.5.9's default admission rules print on every submission. */
export const ADMISSION_CHATTER = '[ADMISSION RULE] Modify resource description with type constraints';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** oarsub, oarstat and oardel over a table of jobs, installed on a FakeConnector. */
export class FakeOar {
  readonly jobs = new Map<number, FakeOarJob>();
  /** Answers of the next oarsub calls, in order, instead of OAR's. */
  readonly oarsubFaults: OarsubFault[] = [];
  /** The user oardel acts as (named in FRAG_JOB_REQUEST events). */
  user = 'batontest';
  /**
   * Almighty stopped, as observed on OAR 2.5.9 (scripts/oar-cluster.sh stop-server): oarsub
   * registers its jobs, prints their ids, then fails to reach the server (exit 9); oardel
   * registers its requests, which the server applies once it is back (exit 2).
   */
  serverDown = false;
  readonly #pendingDeletes: string[] = [];
  #nextId: number;

  constructor(
    readonly connector: FakeConnector,
    options: { firstId?: number } = {},
  ) {
    this.#nextId = options.firstId ?? 1;
    connector.on('oarsub', (argv) => this.#oarsub(argv)).on('oarstat', (argv) => this.#oarstat(argv)).on('oardel', (argv) => this.#oardel(argv));
  }

  job(id: number | string): FakeOarJob {
    const job = this.jobs.get(Number(id));
    if (!job) throw new Error(`FakeOar has no job ${id}`);
    return job;
  }

  /** Adds a job as if submitted by someone else (or earlier), with the fields given. */
  add(fields: Partial<FakeOarJob> = {}): FakeOarJob {
    const id = fields.id ?? this.#nextId;
    this.#nextId = Math.max(this.#nextId, id + 1);
    const job: FakeOarJob = {
      id,
      name: 'job',
      command: 'exec /bin/sh job.sh',
      argv: [],
      arrayId: id,
      arrayIndex: 1,
      state: 'Waiting',
      exitCode: null,
      message: `R=1,W=1:0:0,J=B,N=${fields.name ?? 'job'} (Karma=0.000,quota_ok)`,
      submissionTime: nowSeconds(),
      startTime: 0,
      stopTime: 0,
      walltime: 3600,
      scheduledStart: null,
      hosts: [],
      events: [],
      ...fields,
    };
    this.jobs.set(id, job);
    return job;
  }

  /** Almighty is back: it applies the oardel requests registered meanwhile. */
  serverUp(): void {
    this.serverDown = false;
    for (const id of this.#pendingDeletes.splice(0)) this.#delete(id);
  }

  /** The job runs on `host` (OAR sets its start time and nodes). */
  start(id: number | string, host = 'vm'): FakeOarJob {
    return Object.assign(this.job(id), { state: 'Running', startTime: nowSeconds() - 5, hosts: [host], scheduledStart: null });
  }

  /** Its command ended with this raw wait status (`exit 3` → 768). */
  terminate(id: number | string, waitStatus: number): FakeOarJob {
    const job = this.job(id);
    const date = nowSeconds();
    job.events.push({ type: 'SWITCH_INTO_TERMINATE_STATE', description: `[bipbip ${job.id}] Ask to change the job state`, date });
    return Object.assign(job, { state: 'Terminated', exitCode: waitStatus, stopTime: date });
  }

  /** Sarko ends it at its walltime: its own FRAG_JOB_REQUEST and WALLTIME at the same date, as OAR 2.5.9 logs them. */
  walltimeKill(id: number | string): FakeOarJob {
    const job = this.job(id);
    const date = job.startTime + job.walltime + 10;
    job.events.push(
      { type: 'FRAG_JOB_REQUEST', description: `User root requested to frag the job ${job.id}`, date },
      { type: 'WALLTIME', description: `[sarko] Job [${job.id}] from ${job.startTime} with ${job.walltime}; current time=${date} (Elapsed)`, date },
      { type: 'SEND_KILL_JOB', description: `[Leon] Send kill signal to oarexec on ${job.hosts[0] ?? 'vm'} for the job ${job.id}`, date },
      { type: 'SWITCH_INTO_ERROR_STATE', description: `[bipbip ${job.id}] Ask to change the job state`, date: date + 2 },
    );
    return Object.assign(job, { state: 'Error', exitCode: null, stopTime: date + 2 });
  }

  // oarsub [options] <command>: `OAR_JOB_ID=N` per job (an array's in the order of its parameter lines).
  #oarsub(argv: readonly string[]): Partial<CommandResult> {
    const fault = this.oarsubFaults.shift();
    if (fault && !fault.reachesOar) return { code: 1, ...fault };
    const option = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
    const command = argv.at(-1)!;
    const paramFile = option('array-param-file');
    let commands = [command];
    if (paramFile !== undefined) {
      const text = this.connector.files.get(paramFile);
      if (text === undefined) return { code: 6, stderr: `[ERROR] Cannot open the parameter file ${paramFile}\n` };
      // OAR skips blank lines and comments; each line is appended to the command.
      commands = text
        .split('\n')
        .filter((line) => line.trim() !== '' && !/^\s*#/.test(line))
        .map((line) => `${command} ${line}`);
    }
    const walltime = /walltime=(\d+):(\d+):(\d+)/.exec(option('resource') ?? '');
    const name = option('name') ?? null;
    const arrayId = this.#nextId;
    const jobs = commands.map((jobCommand, index) =>
      this.add({
        name,
        command: jobCommand,
        argv: [...argv],
        arrayId,
        arrayIndex: index + 1,
        message: `R=1,W=${walltime ? `${Number(walltime[1])}:${Number(walltime[2])}:${Number(walltime[3])}` : '2:0:0'},J=B${name ? `,N=${name}` : ''} (Karma=0.000,quota_ok)`,
        walltime: walltime ? Number(walltime[1]) * 3600 + Number(walltime[2]) * 60 + Number(walltime[3]) : 7200,
      }),
    );
    if (fault) return { code: 1, ...fault };
    const ids = jobs.map((job) => `OAR_JOB_ID=${job.id}\n`).join('');
    const stdout = `${ADMISSION_CHATTER}\n${ids}${paramFile === undefined ? '' : `OAR_ARRAY_ID=${arrayId}\n`}`;
    // Wrong, as in 2.5.9: the jobs are in the database and run once the server is back.
    if (this.serverDown) return { code: 9, stdout, stderr: '[ERROR] Cannot connect to executor localhost:6666. Job is killed.\n' };
    return { stdout };
  }

  // oarstat -f -J -j ID...: full records; oarstat -J --sql "...": short records. Nothing at all when no job matches.
  #oarstat(argv: readonly string[]): Partial<CommandResult> {
    const sqlAt = argv.indexOf('--sql');
    if (sqlAt >= 0) {
      const where = /^job_name = '([^']*)' AND submission_time >= (\d+)$/.exec(argv[sqlAt + 1] ?? '');
      if (!where) return { code: 1, stderr: `DBD::Pg::st execute failed: ERROR:  syntax error in ${argv[sqlAt + 1]}\n` };
      const found = [...this.jobs.values()].filter((job) => job.name === where[1] && job.submissionTime >= Number(where[2]));
      return { stdout: json(found.map((job) => [job.id, shortRecord(job)])) };
    }
    const ids = argv.flatMap((arg, index) => (argv[index - 1] === '-j' ? [Number(arg)] : []));
    const found = ids.flatMap((id) => (this.jobs.has(id) ? [this.jobs.get(id)!] : []));
    return { stdout: json(found.map((job) => [job.id, argv.includes('-f') ? fullRecord(job) : shortRecord(job)])) };
  }

  // oardel ID...: a FRAG_JOB_REQUEST per job, which then ends in Error; an unknown id fails the call.
  // With the server down: registered, applied once it is back.
  #oardel(argv: readonly string[]): Partial<CommandResult> {
    let stdout = '';
    let stderr = '';
    for (const id of argv.slice(1)) {
      const job = this.jobs.get(Number(id));
      if (!job) {
        stderr += `[${id}] You are not the right user or the job does not exist\n`;
        continue;
      }
      stdout += `Deleting the job = ${id} ...REGISTERED.\n`;
      if (this.serverDown) this.#pendingDeletes.push(id);
      else this.#delete(id);
    }
    if (stdout) stdout += 'The job(s) [ ' + argv.slice(1).join(' ') + ' ] will be deleted in the near future.\n';
    if (this.serverDown) return { code: 2, stdout, stderr: `${stderr}Could not connect to the socket localhost:6666\n` };
    return { code: stderr ? 1 : 0, stdout, stderr };
  }

  #delete(id: string): void {
    const job = this.job(id);
    if (job.state === 'Terminated' || job.state === 'Error') return;
    const date = nowSeconds();
    job.events.push(
      { type: 'FRAG_JOB_REQUEST', description: `User ${this.user} requested to frag the job ${id}`, date },
      { type: 'SEND_KILL_JOB', description: `[Leon] Send kill signal to oarexec on vm for the job ${id}`, date },
      { type: 'SWITCH_INTO_ERROR_STATE', description: `[bipbip ${id}] Ask to change the job state`, date: date + 2 },
    );
    Object.assign(job, { state: 'Error', exitCode: null, stopTime: job.startTime ? date + 2 : 0 });
  }
}

/** An object keyed by job id, as oarstat -J prints it; nothing at all for no job. */
function json(entries: [number, unknown][]): string {
  return entries.length === 0 ? '' : `${JSON.stringify(Object.fromEntries(entries), null, 3)}\n`;
}

function shortRecord(job: FakeOarJob): Record<string, unknown> {
  return {
    Job_Id: job.id,
    owner: 'batontest',
    state: job.state,
    name: job.name,
    queue: 'default',
    submissionTime: job.submissionTime,
    array_id: job.arrayId,
  };
}

function fullRecord(job: FakeOarJob): Record<string, unknown> {
  return {
    Job_Id: job.id,
    job_user: 'batontest',
    owner: 'batontest',
    state: job.state,
    name: job.name,
    command: job.command,
    queue: 'default',
    project: 'default',
    types: [],
    jobType: 'PASSIVE',
    launchingDirectory: '/home/batontest',
    array_id: job.arrayId,
    array_index: job.arrayIndex,
    exit_code: job.exitCode,
    message: job.message,
    walltime: job.walltime,
    submissionTime: job.submissionTime,
    startTime: job.startTime,
    stopTime: job.stopTime,
    scheduledStart: job.scheduledStart,
    assigned_network_address: job.hosts,
    assigned_resources: job.hosts.length > 0 ? [1] : [],
    dependencies: [],
    events: job.events.map((event, index) => ({ to_check: 'NO', type: event.type, job_id: job.id, date: event.date, event_id: index + 1, description: event.description })),
  };
}
