// The experiment: a named, resumable run of user code that submits jobs into
// a workspace. `await using xp = await experiment({ name })` always cleans up.
import { EventEmitter } from 'node:events';
import { posix } from 'node:path';
import { BatonError, UserInputError, didYouMean } from '../errors.ts';
import { Job } from '../job/job.ts';
import { jobDirectory } from '../job/jobFiles.ts';
import { checkEnvironment, checkEnvironmentVariable } from '../job/shellValues.ts';
import { createLogger } from '../logger.ts';
import { Scheduler, type DryRunRecord } from '../scheduler/scheduler.ts';
import { findLauncher } from '../scheduler/chooseLauncher.ts';
import type { Task, TaskInput } from '../task/defineTask.ts';
import { identityHash } from '../task/identity.ts';
import { prepareParams } from '../task/taskParams.ts';
import { claimTaskId } from '../task/taskRegistry.ts';
import { checkCommand, ExportedTasks, refuseCommandOnFunctionLauncher } from './submitChecks.ts';
import { CounterToken } from '../token/counterToken.ts';
import type { FailureInfo, JobState, RunMode, ServiceLike, Token } from '../types.ts';
import { openWorkspace, type OpenWorkspaceOptions } from '../workspace/openWorkspace.ts';
import { ExperimentServices } from './experimentServices.ts';
import { RUN_JOB_INDEX, RunJobIndex, openRun, readCurrentRun } from './runFolder.ts';
import { decodeSaved, encodeSaved } from './savedValues.ts';
import { summarizeJobs, type ExperimentSummary } from './experimentSummary.ts';
import type { Workspace } from '../workspace/workspace.ts';

export interface ExperimentOptions extends OpenWorkspaceOptions {
  /** Experiment id; names its folder under `<workspace>/experiments/`. */
  name: string;
  /** An already opened workspace (programmatic use, tests); settings are not read then. */
  openedWorkspace?: Workspace;
  /** Monitor host and port (kept for the monitor); a negative port means no server. */
  host?: string;
  port?: number;
  /** Access token of the monitor (not a counter token). */
  token?: string;
  runMode?: RunMode;
  /** Launcher used when a job names none (default: the workspace's). */
  launcher?: string;
  /** Variables exported to every job (like `setenv`). */
  env?: Record<string, string>;
}

export interface SubmitOptions {
  /** Launcher name, overriding the task's. */
  launcher?: string;
  /** Counter tokens to hold while the job runs, added to the task's. */
  tokens?: Record<string, number>;
  /** Environment for this job, winning over the task's. */
  env?: Record<string, string>;
}

export interface JobStateEvent {
  taskId: string;
  hash: string;
  directory: string;
  state: JobState;
  previous?: JobState;
  failure?: FailureInfo;
  launcher?: string;
  detail?: string;
}

export type { ExperimentSummary } from './experimentSummary.ts';

interface ExperimentEvents {
  'job-state': [JobStateEvent];
  'dry-run': [DryRunRecord];
  /** A service was attached (xp.addService, xp.useService); its listeners tell its states. */
  service: [ServiceLike];
}

export { RUN_SERVICES_FILE } from './experimentServices.ts';

// The workspace's paths as its host sees them (a POSIX host, maybe over SSH).
const { join } = posix;
const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const stack: Experiment[] = [];
/** The tokens of a job that holds none. */
const NO_TOKENS: Record<string, number> = Object.freeze({});

/** Opens an experiment: reads settings, opens the workspace, starts a new run. */
export async function experiment(options: ExperimentOptions): Promise<Experiment> {
  if (process.env.BATON_JOB_RUNNER) {
    throw new BatonError(`experiment("${options.name}") was called inside job ${process.env.BATON_JOB_RUNNER}`, {
      hint: 'the module that exports a function task must not start an experiment when imported: move defineTask calls to their own module',
    });
  }
  if (!EXPERIMENT_NAME.test(options.name ?? '')) {
    throw new UserInputError(`Invalid experiment name ${JSON.stringify(options.name)}`, {
      hint: 'use letters, digits, ".", "_" and "-" (it names a directory)',
    });
  }
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port > 65535)) {
    throw new UserInputError(`Invalid monitor port ${options.port}`, { hint: 'give an integer up to 65535, or a negative number for no server' });
  }
  const workspace = options.openedWorkspace ?? (await openWorkspace({ ...options, experimentId: options.name }));
  try {
    const xp = new Experiment(options, workspace);
    await xp.open();
    return xp;
  } catch (error) {
    if (!options.openedWorkspace) await workspace.close();
    throw error;
  }
}

export class Experiment implements AsyncDisposable {
  readonly name: string;
  readonly runMode: RunMode;
  readonly workspace: Workspace;
  readonly events = new EventEmitter<ExperimentEvents>();
  /** Monitor settings, kept for the monitor. */
  readonly monitor: { host?: string; port?: number; token?: string };
  runId = '';
  /** `<workspace>/experiments/<name>/<run-id>` */
  path = '';
  #previousRun: string | undefined;
  /** Job indexes of the previous run and of older ones, newest first. */
  #previousIndex: string | undefined;
  #olderIndexes: string[] = [];
  readonly #scheduler: Scheduler;
  readonly #env: Record<string, string>;
  /** Function tasks found among their module's exports (checked once each). */
  readonly #exportedTasks = new ExportedTasks();
  /** The experiment's default launcher (experiment({ launcher })), over the workspace's. */
  readonly #defaultLauncher: string | undefined;
  readonly #tokens = new Map<string, Token>();
  readonly #services: ExperimentServices;
  /** The run's `jobs.jsonl` (none in a dry run). */
  #index: RunJobIndex | undefined;
  /** Error codes of index appends that failed, each told once. */
  readonly #indexFailures = new Set<string | undefined>();
  readonly #logger = createLogger('baton:experiment');
  readonly #startedAt = Date.now();
  readonly #ownsWorkspace: boolean;
  #stopped = false;
  #closed = false;

  /** @internal use `experiment(...)` */
  constructor(options: ExperimentOptions, workspace: Workspace) {
    this.name = options.name;
    this.runMode = options.runMode ?? 'normal';
    this.workspace = workspace;
    this.#services = new ExperimentServices({
      workspace,
      experimentName: this.name,
      runPath: () => this.path,
      dryRun: this.runMode === 'dry-run',
      logger: this.#logger,
      onAttached: (service) => this.events.emit('service', service),
    });
    this.monitor = { host: options.host, port: options.port, token: options.token };
    checkEnvironment(options.env ?? {}, 'the experiment\'s environment (experiment({ env }) or --env)');
    this.#env = { ...options.env };
    this.#ownsWorkspace = !options.openedWorkspace;
    if (options.launcher !== undefined) findLauncher(workspace, options.launcher);
    this.#defaultLauncher = options.launcher;
    this.#scheduler = new Scheduler({
      workspace,
      runMode: this.runMode,
      logger: this.#logger.child('scheduler'),
      experiment: { name: this.name, runId: '' },
      tokens: () => this.#tokens,
      defaultLauncher: options.launcher,
      events: {
        onState: (job, previous) =>
          this.events.emit('job-state', {
            taskId: job.taskId,
            hash: job.hash,
            directory: job.directory,
            state: job.state,
            previous,
            failure: job.failure,
            launcher: job.handle?.launcher,
            detail: job.detail,
          }),
        onDryRun: (record) => this.events.emit('dry-run', record),
      },
    });
  }

  /** The experiment opened most recently and not closed yet. */
  static current(): Experiment {
    const xp = stack[stack.length - 1];
    if (!xp) {
      throw new BatonError('No experiment is running', {
        hint: 'call Experiment.current() inside `await using xp = await experiment({...})` or a defineExperiment run function',
      });
    }
    return xp;
  }

  /** @internal creates the run directory */
  async open(): Promise<void> {
    const { connector } = this.workspace;
    const dryRun = this.runMode === 'dry-run';
    // The default launcher gets ready for the jobs (a thread, a connection) while the run opens.
    this.#scheduler.warmUp();
    const run = await openRun({ connector, base: join(this.workspace.path, 'experiments', this.name), date: new Date(), dryRun });
    this.runId = run.runId;
    this.path = run.path;
    this.#previousRun = run.previousRun;
    this.#previousIndex = run.previousIndex;
    this.#olderIndexes = run.olderIndexes;
    if (!dryRun) this.#index = new RunJobIndex({ connector, runPath: this.path, onError: (error) => this.#indexFailed(error) });
    this.#scheduler.setExperimentInfo({ name: this.name, runId: this.runId });
    stack.push(this);
    this.#logger.debug(`experiment ${this.name} run ${this.runId} in ${this.workspace.path} (${this.runMode})`);
  }

  get workspacePath(): string {
    return this.workspace.path;
  }

  /** The index of the jobs this run submitted: `jobs.jsonl`, one JSON line `{taskId, hash}` per job. */
  get jobspath(): string {
    return join(this.path, RUN_JOB_INDEX);
  }

  /** Where the experiment stores its results. */
  get resultspath(): string {
    return join(this.path, 'results');
  }

  /** The previous run's job index (`jobs.jsonl`, or the `jobs/` links of a run of an earlier version) as this run found it, if there was a previous run. */
  get jobsbakpath(): string | undefined {
    return this.#previousIndex;
  }

  /** Job indexes of older runs of this experiment, newest first. */
  get altJobspaths(): string[] {
    return [...this.#olderIndexes];
  }

  /** Submits a task with parameters; returns at once with the job (the same one for the same identity). */
  submit<T extends Task<any>>(task: T, params: TaskInput<T>, options: SubmitOptions = {}): Job {
    if (this.#closed) throw new BatonError(`Experiment "${this.name}" is closed`, { hint: 'submit jobs before the experiment ends' });
    if (this.#stopped) throw new BatonError(`Experiment "${this.name}" is stopping`, { hint: 'no job can be submitted after stop()' });
    claimTaskId(task);
    // A host without a suitable Node: one clear error now, not a failed job per task.
    if (task.run) {
      const refusal = this.workspace.functionTasks?.refusal(task.id);
      if (refusal) throw refusal;
      this.#exportedTasks.check(task);
    }
    const prepared = prepareParams(task, params);
    const hash = identityHash({ taskId: task.id, version: task.version, canonicalParams: prepared.canonicalIdentity });
    const existing = this.#scheduler.get(hash);
    if (existing) return existing;
    // Most jobs hold no token: they share one empty, frozen record.
    const tokens = task.tokens === undefined && options.tokens === undefined ? NO_TOKENS : { ...task.tokens, ...options.tokens };
    this.#checkTokens(task.id, tokens);
    const launcher = options.launcher ?? task.launcher;
    if (launcher !== undefined) findLauncher(this.workspace, launcher);
    if (!task.run) refuseCommandOnFunctionLauncher({ workspace: this.workspace, task, named: launcher, defaultLauncher: this.#defaultLauncher });
    // The experiment's environment as it is when the job is submitted; jobs with no
    // environment of their own share one checked copy (10,000 jobs, one object).
    const env = this.#jobEnv(task, options);
    const job = new Job({
      task,
      hash,
      directory: jobDirectory(this.workspace.path, task.id, hash),
      resolved: prepared.resolved,
      identity: prepared.identity,
      options: prepared.options,
      dependencies: prepared.dependencies,
      env,
      tokens,
      launcher,
      requirements: task.requirementAlternatives,
    });
    checkCommand(job);
    this.#index?.add({ taskId: task.id, hash });
    this.#scheduler.add(job);
    return job;
  }

  /** Writes a job's directory and script without running it (a done or running job is left alone). */
  async prepare(job: Job): Promise<'done' | 'running' | 'prepared'> {
    return this.#scheduler.prepare(job);
  }

  /**
   * Attaches a service without starting it; it is stopped when the experiment closes
   * (unless it is kept). Its state and URL are recorded in the run's `services.json`.
   */
  addService<S extends ServiceLike>(service: S): S {
    return this.#services.add(service);
  }

  /**
   * Starts a service and resolves once it runs: one declared under `services:` in the
   * workspace's settings, by name (created once per experiment), or a service object
   * (attached first if it is not yet).
   */
  useService(service: string): Promise<ServiceLike>;
  useService<S extends ServiceLike>(service: S): Promise<S>;
  useService(service: string | ServiceLike): Promise<ServiceLike> {
    return this.#services.use(service);
  }

  get services(): readonly ServiceLike[] {
    return this.#services.list;
  }

  /** Sets an environment variable for every job submitted from now on. */
  setenv(name: string, value: string, override = true): void {
    checkEnvironmentVariable(name, value, `xp.setenv(${JSON.stringify(name)})`);
    if (!override && name in this.#env) return;
    this.#env[name] = value;
    this.#sharedEnv = undefined;
  }

  /** The environment of a job, checked with the workspace's overlay. */
  #jobEnv(task: Task, options: SubmitOptions): Record<string, string> {
    const own = task.env !== undefined || options.env !== undefined;
    if (!own && this.#sharedEnv) return this.#sharedEnv;
    const env = { ...this.#env, ...task.env, ...options.env };
    checkEnvironment({ ...this.workspace.env, ...env }, `environment of a job of task "${task.id}"`);
    if (!own) this.#sharedEnv = Object.freeze(env) as Record<string, string>;
    return env;
  }

  /** The experiment's environment as jobs without one of their own get it, until the next setenv. */
  #sharedEnv: Record<string, string> | undefined;

  /** A counter token of `count` units shared by every process using the workspace. */
  token(name: string, count: number): Token {
    const declared = this.workspace.tokens.get(name);
    if (declared) {
      if (declared.total !== count) this.#logger.warn(`token "${name}" is declared with ${declared.total} units in the settings; using that instead of ${count}`);
      return declared;
    }
    let token = this.#tokens.get(name);
    if (!token) {
      token = new CounterToken({ name, total: count, workspacePath: this.workspace.path, connector: this.workspace.connector });
      this.#tokens.set(name, token);
    }
    return token;
  }

  /** Saves objects (jobs and outputs included) under `data/<name>.json` of this run. */
  async save(value: unknown, name = 'default'): Promise<void> {
    checkDataName(name);
    // Atomic: a reader (a later run's load) sees the old value or the new one, never half.
    await this.workspace.connector.writeFile(join(this.path, 'data', `${name}.json`), `${JSON.stringify(encodeSaved(value), null, 2)}\n`);
  }

  /** Loads what experiment `reference` saved under `name` in its latest run; jobs come back as outputs. */
  async load(reference: string, name = 'default'): Promise<unknown> {
    checkDataName(name);
    const { connector } = this.workspace;
    const base = join(this.workspace.path, 'experiments', reference);
    const run = reference === this.name ? (this.runMode === 'dry-run' ? this.#previousRun : this.runId) : await readCurrentRun(connector, base);
    const candidates = run ? [join(base, run, 'data', `${name}.json`)] : [];
    if (reference === this.name && this.#previousRun && run !== this.#previousRun) candidates.push(join(base, this.#previousRun, 'data', `${name}.json`));
    for (const path of candidates) {
      const text = await connector.readFileIfExists(path).catch(() => undefined);
      if (text !== undefined) return decodeSaved(JSON.parse(text));
    }
    const known = await connector.readdir(join(this.workspace.path, 'experiments')).catch(() => [] as string[]);
    throw new UserInputError(`Nothing saved as "${name}" by experiment "${reference}"${didYouMean(reference, known)}`, {
      where: candidates[0] ?? base,
      hint: `run experiment "${reference}" with xp.save(value, "${name}") first`,
    });
  }

  /**
   * Stops submitting and launching. Every job's `wait()` then resolves: jobs
   * not started yet stay `waiting`/`ready` (not started), queued and running
   * ones keep running (the next run re-attaches them). With `kill`, those are
   * cancelled, and settle as soon as their launcher confirms their end.
   */
  async stop(options: { kill?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    await this.#scheduler.stop(options);
  }

  /** Waits until every submitted job finished (once stopped: until the jobs being launched or cancelled are through). */
  async wait(): Promise<ExperimentSummary> {
    await this.#scheduler.idle();
    await this.#index?.flushed();
    return this.summary();
  }

  summary(): ExperimentSummary {
    return summarizeJobs({ jobs: this.#scheduler.jobs, launchers: this.workspace.launchers, runMode: this.runMode, startedAt: this.#startedAt });
  }

  /** Jobs submitted in this run. */
  get jobs(): Job[] {
    return [...this.#scheduler.jobs];
  }

  /** Waits for the jobs (unless stopped), stops services, releases the workspace. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      if (!this.#stopped) await this.wait();
    } finally {
      this.#closed = true;
      await this.#services.close();
      await this.#scheduler.close();
      await this.#index?.flushed();
      if (this.#ownsWorkspace) await this.workspace.close();
      const index = stack.lastIndexOf(this);
      if (index >= 0) stack.splice(index, 1);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkTokens(taskId: string, tokens: Record<string, number>): void {
    for (const [name, count] of Object.entries(tokens)) {
      const token = this.#tokens.get(name) ?? this.workspace.tokens.get(name);
      const known = [...this.#tokens.keys(), ...this.workspace.tokens.keys()];
      if (!token) {
        throw new UserInputError(`Task "${taskId}" needs token "${name}", which is not declared${didYouMean(name, known)}`, {
          hint: `declare it in the settings (tokens: { ${name}: N }) or call xp.token("${name}", N) before submitting`,
        });
      }
      if (!Number.isInteger(count) || count <= 0 || count > token.total) {
        throw new UserInputError(`Task "${taskId}" asks for ${count} of token "${name}", which has ${token.total}`, {
          hint: 'ask for a whole number between 1 and the token total, or raise the total',
        });
      }
    }
  }

  /** The run's job index is for people and `baton jobs list`; a run goes on without it, and says so once. */
  #indexFailed(error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code;
    if (this.#indexFailures.has(code)) return;
    this.#indexFailures.add(code);
    this.#logger.warn(`could not record jobs in ${this.jobspath}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function checkDataName(name: string): void {
  if (!EXPERIMENT_NAME.test(name)) {
    throw new UserInputError(`Invalid save name ${JSON.stringify(name)}`, { hint: 'use letters, digits, ".", "_" and "-"' });
  }
}
