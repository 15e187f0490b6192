// Public types of @baton/core: the contracts between the core, the launchers,
// connectors, tokens and services that plugins contribute, and the CLI.
import type { z } from 'zod';

// ---------------------------------------------------------------------------
// Jobs

/** Where a job stands, as the scheduler sees it. Markers on disk are the source of truth. */
export type JobState =
  | 'waiting' // submitted, waiting for dependencies or tokens
  | 'ready' // may start; waiting for a launcher slot
  | 'queued' // handed to a launcher, not running yet (e.g. pending in SLURM)
  | 'running'
  | 'done'
  | 'failed';

/** Why a job failed; `failed` is a plain non-zero exit. */
export type FailureReason =
  | 'failed'
  | 'timeout'
  | 'cancelled'
  | 'oom'
  | 'dependency'
  | 'node_fail'
  | 'preempted'
  | 'rejected'
  | 'lost';

/** Content of a job's `failed` marker. */
export interface FailureInfo {
  code: number | null;
  reason: FailureReason;
  message: string;
}

export type RunMode = 'normal' | 'generate' | 'dry-run';

// ---------------------------------------------------------------------------
// Connectors: the one seam through which launchers touch a host.

export interface CommandResult {
  /** Exit code, or null when the command was killed by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface RunCommandOptions {
  cwd?: string;
  /** Extra environment variables, on top of the connector's environment. */
  env?: Record<string, string>;
  /** Kill the command (and fail with a timeout) after this many milliseconds. */
  timeoutMs?: number;
  /** Text written to the command's standard input. */
  input?: string;
}

export interface SpawnDetachedOptions {
  cwd: string;
  /** Files (as the host sees them) that receive the process's output, appended to. */
  stdoutPath: string;
  stderrPath: string;
  env?: Record<string, string>;
}

export interface LockOptions {
  /** Consider the lock stale (its holder dead) after this many ms without refresh. */
  staleMs?: number;
  /** Keep retrying for this long before giving up; 0 fails at once. */
  waitMs?: number;
}

export type ReleaseLock = () => Promise<void>;

/** One entry of a directory, from `Connector.listDirectory`. */
export interface DirectoryEntry {
  name: string;
  kind: 'file' | 'directory' | 'symlink' | 'other';
}

/**
 * A connector reaches a host: runs commands (argv arrays, never shell strings
 * built from user data), reads and writes files, takes locks.
 */
export interface Connector {
  /** Connector kind, e.g. `local`, `ssh`. */
  readonly kind: string;
  /** The host name as jobs see it. */
  readonly hostname: string;
  run(argv: readonly string[], options?: RunCommandOptions): Promise<CommandResult>;
  /**
   * Starts a process in its own process group that outlives the caller; resolves with its pid
   * once the process exists (it may not have exec'd the command yet).
   * `exited` (when the connector can tell) resolves true when the process ends, or false
   * when the connector lost track of it (the caller must then look for itself); it never rejects.
   */
  spawnDetached(argv: readonly string[], options: SpawnDetachedOptions): Promise<{ pid: number; exited?: Promise<boolean> }>;
  /** True when the process exists; when `commandLineIncludes` is given, also checks its command line. */
  isProcessAlive(pid: number, commandLineIncludes?: string): Promise<boolean>;
  /**
   * True while some process of group `pgid` has not exited (zombies left out). A job's life
   * is its group: its command may outlive a killed job.sh.
   */
  isProcessGroupAlive(pgid: number): Promise<boolean>;
  /** Sends a signal to a whole process group. */
  killProcessGroup(pgid: number, signal?: NodeJS.Signals): Promise<void>;
  readFile(path: string): Promise<string>;
  /** Reads a file, or returns undefined when it does not exist. */
  readFileIfExists(path: string): Promise<string | undefined>;
  /** Writes a file atomically (temporary file + rename). */
  writeFile(path: string, data: string, options?: { mode?: number }): Promise<void>;
  appendFile(path: string, data: string): Promise<void>;
  /**
   * Makes a directory and its missing parents. With `exclusive`, makes only that one
   * directory and fails with code `EEXIST` when it exists (an atomic claim of a name).
   */
  mkdir(path: string, options?: { exclusive?: boolean }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Removes a file or a directory with everything in it; nothing when it does not exist. */
  remove(path: string): Promise<void>;
  /** Removes an empty directory; fails (ENOTEMPTY, ENOENT...) otherwise. */
  rmdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  /** The entries of a directory with what each is (a symbolic link is not followed). */
  listDirectory(path: string): Promise<DirectoryEntry[]>;
  symlink(target: string, path: string): Promise<void>;
  /** Where a symbolic link points, as written; undefined when `path` is missing or not a link. */
  readlink(path: string): Promise<string | undefined>;
  /**
   * How long ago a file was last modified, in milliseconds by the host's own clock (so a
   * caller's skewed clock does not matter); undefined when it does not exist. With
   * `setModifiedAgo`, it lets the scheduler claim a job never launched by making its
   * directory (docs/plugins.md, "Claims"); a connector without them claims every job
   * with a lock.
   */
  modifiedAgo?(path: string): Promise<number | undefined>;
  /** Sets a file's modification time to the host's now, less `agoMs` milliseconds. */
  setModifiedAgo?(path: string, agoMs: number): Promise<void>;
  /** Takes an exclusive lock named by `path`; works across processes and hosts (NFS). */
  lock(path: string, options?: LockOptions): Promise<ReleaseLock>;
  /** Resolves a path as the target host sees it. */
  resolve(path: string): string;
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Launchers

/** What a launcher's host offers; the launcher finder matches requirements against it. */
export interface HostDescription {
  cores?: number;
  /** Memory in bytes. */
  memory?: number;
  gpus?: number;
  /** Memory per GPU in bytes. */
  gpuMemory?: number;
  /** Longest job duration in seconds. */
  maxDuration?: number;
  /** Higher wins when several launchers fit. */
  priority?: number;
}

/** What a launcher needs to start one job. */
export interface LaunchRequest {
  /** Task id. */
  taskId: string;
  /** The job's identity (hex SHA-256). */
  hash: string;
  /** Job directory, as the launcher's host sees it. */
  directory: string;
  /** Path of the generated `job.sh`. */
  scriptPath: string;
  /** A short human name, e.g. `train-3fa2c1d0`. */
  name: string;
  requirements: Requirements;
  /**
   * Set for resumable tasks: the launcher should send SIGUSR2 to job.sh this many
   * seconds before the job's time limit (e.g. SLURM `--signal=B:USR2@N`); job.sh
   * forwards it to the task and records the end as a timeout, which the
   * scheduler resubmits.
   */
  resumable?: { signalAheadSeconds: number };
}

/** Who runs a job; written to `process.json`, enough to re-attach from another process. */
export interface LaunchHandle {
  /** Name of the launcher (as declared in settings) that runs the job. */
  launcher: string;
  /** Launcher kind (`local`, `slurm`, ...). */
  kind: string;
  host: string;
  directory: string;
  /** Process (group) id for launchers that run processes directly; with `inProcess`, the process the job runs inside. */
  pid?: number;
  /**
   * The job runs inside process `pid` (a worker thread of the experiment process,
   * for the `threads` launcher), not in a process of its own: it ends when that
   * process ends, and any process on the same host can tell whether it still runs.
   */
  inProcess?: boolean;
  /** With `inProcess`: start time of process `pid` (clock ticks since boot, from /proc), to tell it from a later process with the same pid. */
  processStart?: string;
  /** Scheduler job id for cluster launchers. */
  clusterId?: string;
  /** When the job was handed over (ISO 8601). */
  submittedAt: string;
}

/** A launcher's view of a job. `finished` means "look at the markers". */
export interface LaunchStatus {
  state: 'queued' | 'running' | 'finished' | 'unknown';
  /** Why a queued job is not running (e.g. SLURM's pending reason). */
  detail?: string;
  /** The launcher's own verdict, used when the job wrote no marker (killed, timed out...). */
  failure?: FailureInfo;
  /**
   * With `finished`: the launcher saw the job's `done` marker written (an in-process
   * launcher whose thread wrote it), so the scheduler records the job done without a
   * look at its directory. Leave it out when not sure: the scheduler then reads the markers.
   */
  marker?: 'done';
}

export type SubmitOutcome =
  | { handle: LaunchHandle; /** What the job is right after submission; default `queued`. */ state?: 'queued' | 'running' }
  | { failure: FailureInfo };

export interface Launcher {
  /** Name as declared in the settings (e.g. `gpu`), or the kind for defaults. */
  readonly name: string;
  readonly kind: string;
  readonly connector: Connector;
  readonly host: HostDescription;
  /** How often the scheduler asks for status. */
  readonly pollIntervalMs: number;
  /** Most jobs this launcher runs at once for one experiment process; undefined: no limit. */
  readonly maxConcurrent?: number;
  /**
   * How long the scheduler gathers ready jobs before handing them over, so that
   * they go in one batch (e.g. a SLURM job array). Default 0: at once.
   */
  readonly submitDelayMs?: number;
  /** Submits a batch; one outcome per request, in order. */
  submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]>;
  /** One status per handle, in order; one scheduler query for the whole batch. */
  status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]>;
  cancel(handles: readonly LaunchHandle[]): Promise<void>;
  /** Optional push: called when some job's status may have changed, so the scheduler polls now. */
  onChange?(listener: () => void): () => void;
  /**
   * Whether a job keeps running when the experiment process ends (default true:
   * a detached process, a cluster job; the next run re-attaches it). False for a
   * launcher that runs jobs inside the experiment process (`threads`): its jobs
   * stop with the process, leave no marker, and run again on resume.
   */
  readonly jobsOutliveProcess?: boolean;
  /**
   * Whether the launcher runs the job's `job.sh` (default true). False for a
   * launcher that runs a job some other way (`threads` calls the task's function):
   * the scheduler then writes no `job.sh` for the jobs it hands to it, and `submit`
   * refuses a command task bound for it (it has nothing to run a command with).
   */
  readonly runsJobScript?: boolean;
  /**
   * Optional hint that jobs are coming: called when an experiment opens to launch
   * jobs (normal run mode) with this launcher as its default, and when the first job
   * is routed to it. Start what the first job would otherwise wait for (a worker
   * thread, a connection) without blocking, and make a second call a no-op. It may
   * come to nothing (every job done already); failures are the launcher's to handle
   * (the first `submit` meets them again).
   */
  warmUp?(): void;
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Requirements

export interface GpuRequirement {
  count: number;
  /** Memory per GPU in bytes. */
  memory?: number;
}

export interface Requirements {
  cores?: number;
  /** Memory in bytes. */
  memory?: number;
  gpus?: GpuRequirement;
  /** Duration in seconds. */
  duration?: number;
}

// ---------------------------------------------------------------------------
// Tokens

export interface TokenHolder {
  /** The job's identity. */
  hash: string;
  /** The job's directory: a holder whose job has a marker has released its share. */
  directory: string;
  /** Process that holds the share on `host` (the job's or the experiment's). */
  pid: number;
  /**
   * The job's process group on `host`, once it has one (the local launcher's
   * `handle.pid`: job.sh leads its own group). The share then lives while `pid`
   * or any process of the group runs, so killing only job.sh does not free it
   * while the command it started runs on. Leave it out before launch.
   */
  processGroup?: number;
  host: string;
}

/** A counted resource shared by every process using the workspace (a concurrency counter, never a credential). */
export interface Token {
  readonly name: string;
  readonly total: number;
  /** Takes `count` units for `holder` if they are free now; never blocks. */
  tryAcquire(holder: TokenHolder, count: number): Promise<boolean>;
  release(holder: TokenHolder): Promise<void>;
  /** Units free now (dead holders count as free). */
  available(): Promise<number>;
}

// ---------------------------------------------------------------------------
// Services

export type ServiceState = 'stopped' | 'starting' | 'running' | 'stopping' | 'error';

export interface ServiceListener {
  (event: { service: ServiceLike; state: ServiceState; previous: ServiceState; error?: unknown }): void;
}

export interface ServiceLike {
  readonly id: string;
  readonly description: string;
  readonly state: ServiceState;
  readonly url?: string | undefined;
  /** Left running when the experiment closes (the CLI prints where); default false: stopped with it. */
  readonly keep?: boolean;
  addListener(listener: ServiceListener): void;
  removeListener(listener: ServiceListener): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Told by the experiment it is attached to (`xp.addService`), before it starts. */
  attach?(context: ServiceContext): void;
  /** What the monitor shows and `services.json` records. */
  toJSON?(): object;
}

/** What a service learns from the experiment it is attached to. */
export interface ServiceContext {
  /** The experiment's name. */
  experiment: string;
  /** The run's folder, `<workspace>/experiments/<name>/<run-id>`, as the workspace's host sees it. */
  runPath: string;
  workspacePath: string;
  /** True when the workspace is on this machine, so that its paths can be read here (services run here). */
  local: boolean;
  logger: LoggerLike;
}

// ---------------------------------------------------------------------------
// Plugins

export interface LoggerLike {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export interface LauncherContext {
  /** Name the launcher is declared under. */
  name: string;
  /** Absolute path of the workspace. */
  workspacePath: string;
  connector: Connector;
  logger: LoggerLike;
}

export interface LauncherFactory<S extends z.ZodType = z.ZodType> {
  /** Schema of the launcher's settings block (without `use`). */
  settings: S;
  create(settings: z.output<S>, context: LauncherContext): Launcher | Promise<Launcher>;
}

export interface ConnectorFactory<S extends z.ZodType = z.ZodType> {
  settings: S;
  create(settings: z.output<S>, context: { logger: LoggerLike }): Connector | Promise<Connector>;
}

/** What a service factory gets besides its settings. */
export interface ServiceFactoryContext {
  /** The name the service is declared under (`tb` in `services: { tb: {...} }`): the service's id. */
  name: string;
  /** Folder relative paths of the settings resolve from (the settings file's). */
  baseDir: string;
  logger: LoggerLike;
}

export interface ServiceFactory<S extends z.ZodType = z.ZodType> {
  /** Schema of the service's settings block (without `use`). */
  settings: S;
  create(settings: z.output<S>, context: ServiceFactoryContext): ServiceLike | Promise<ServiceLike>;
}

export interface TokenFactory<S extends z.ZodType = z.ZodType> {
  settings: S;
  create(settings: z.output<S>, context: { name: string; workspacePath: string; logger: LoggerLike }): Token | Promise<Token>;
}

export interface PluginDefinition {
  name: string;
  launchers?: Record<string, LauncherFactory<any>>;
  connectors?: Record<string, ConnectorFactory<any>>;
  services?: Record<string, ServiceFactory<any>>;
  tokens?: Record<string, TokenFactory<any>>;
}

export interface Plugin extends PluginDefinition {
  /** Brand that tells a plugin apart from any other default export. */
  readonly __batonPlugin: true;
}
