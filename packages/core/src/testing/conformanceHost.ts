// Where the conformance kit runs jobs: a connector to the host, a fresh workspace
// folder on it, and launchers made as Baton makes them (the plugin's factory, given
// the settings block core validated). One ConformanceCase per test holds the jobs
// and launchers that test made, and ends them whatever the test's outcome.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { expect } from 'vitest';
import { LocalConnector } from '../connector/localConnector.ts';
import { createLogger } from '../logger.ts';
import type { LauncherBlock } from '../settings/settingsSchema.ts';
import type { WorkspaceSettings } from '../settings/validateSettings.ts';
import { createWorkspaceLaunchers } from '../settings/workspaceLaunchers.ts';
import type { Connector, Launcher, LaunchHandle, LaunchStatus, Plugin, SubmitOutcome } from '../types.ts';
import { makeJob, releaseJob, type JobSpec, type KitJob } from './conformanceJobs.ts';

/** Name the kit declares the launcher under (its handles' `launcher`). */
export const LAUNCHER_NAME = 'conformance';

export interface ConformanceTarget {
  plugin: Plugin;
  kind: string;
  settings: Record<string, unknown>;
  connector?: () => Connector | Promise<Connector>;
  workspace?: () => string | Promise<string>;
  timeoutMs: number;
}

type State = LaunchStatus['state'];

export interface FollowOptions {
  /** What is waited for, in messages. */
  what: string;
  /** The states each handle (by index) may be answered in meanwhile. */
  allowed: readonly (readonly State[])[];
  /** Waiting ends when this holds. */
  until: (statuses: readonly LaunchStatus[]) => boolean | Promise<boolean>;
}

export class ConformanceHost {
  readonly target: ConformanceTarget;
  readonly logger = createLogger('baton:conformance');
  #connector: Connector | undefined;
  #workspacePath: string | undefined;

  constructor(target: ConformanceTarget) {
    this.target = target;
  }

  get connector(): Connector {
    if (!this.#connector) throw new Error('the conformance kit has no connector yet (its beforeAll did not run)');
    return this.#connector;
  }

  /** The workspace folder as the host sees it; removed at the end. */
  get workspacePath(): string {
    if (this.#workspacePath === undefined) throw new Error('the conformance kit has no workspace yet (its beforeAll did not run)');
    return this.#workspacePath;
  }

  /** Reaches the host and makes a fresh workspace folder there (under `workspace()` when given, else a temporary folder of the host). */
  async open(): Promise<void> {
    const connector = await (this.target.connector?.() ?? new LocalConnector());
    this.#connector = connector;
    if (this.target.workspace) {
      const parent = connector.resolve(await this.target.workspace());
      const path = posix.join(parent, `baton-conformance-${randomBytes(6).toString('hex')}`);
      await connector.mkdir(path);
      this.#workspacePath = path;
      return;
    }
    const made = await connector.run(['/bin/sh', '-c', 'mktemp -d "${TMPDIR:-/tmp}/baton-conformance-XXXXXX"'], { timeoutMs: 60_000 });
    const path = made.stdout.trim();
    if (made.code !== 0 || !path.startsWith('/')) throw new Error(`could not make a temporary folder on ${connector.hostname} (mktemp -d): ${made.stderr.trim() || `exit code ${made.code}`}`);
    this.#workspacePath = path;
  }

  async close(): Promise<void> {
    const connector = this.#connector;
    if (!connector) return;
    try {
      if (this.#workspacePath !== undefined) await connector.remove(this.#workspacePath);
    } finally {
      await connector.close?.();
    }
  }

  /** The launcher block as a settings file would declare it. */
  block(settings: Record<string, unknown> = this.target.settings): LauncherBlock {
    return { use: this.target.kind, ...settings } as LauncherBlock;
  }

  /** A workspace declaring one launcher, `conformance`, with this block. */
  workspace(block: LauncherBlock = this.block()): WorkspaceSettings {
    return {
      id: 'conformance',
      path: this.#workspacePath ?? '/conformance',
      env: {},
      triggers: [],
      launcher: LAUNCHER_NAME,
      launchers: { [LAUNCHER_NAME]: block },
      tokens: {},
      services: {},
      keyPath: '',
    };
  }

  /** A fresh launcher, made as a workspace makes it: core validates the block, the plugin's factory creates it. */
  async createLauncher(): Promise<Launcher> {
    const { defaultLauncher } = await createWorkspaceLaunchers({
      workspace: this.workspace(),
      plugins: [this.target.plugin],
      connector: this.connector,
      logger: this.logger,
    });
    return defaultLauncher;
  }

  case(): ConformanceCase {
    return new ConformanceCase(this);
  }
}

/** The jobs and launchers of one test; `end()` lets gated jobs go, cancels what may still run and closes the launchers. */
export class ConformanceCase {
  readonly #host: ConformanceHost;
  readonly #launchers: Launcher[] = [];
  readonly #jobs: KitJob[] = [];
  /** The jobs this test submitted, by directory: their latest handle (one read back from process.json too) and last state. */
  readonly #submitted = new Map<string, { handle: LaunchHandle; state: State }>();

  constructor(host: ConformanceHost) {
    this.#host = host;
  }

  get connector(): Connector {
    return this.#host.connector;
  }

  async launcher(): Promise<Launcher> {
    const launcher = await this.#host.createLauncher();
    this.#launchers.push(launcher);
    return launcher;
  }

  async job(spec: JobSpec = {}): Promise<KitJob> {
    const job = await makeJob(this.connector, this.#host.workspacePath, spec);
    this.#jobs.push(job);
    return job;
  }

  release(job: KitJob): Promise<void> {
    return releaseJob(this.connector, job);
  }

  /** Hands the jobs to the launcher in one call; checks there is one outcome per request, in order, each a handle. */
  async submit(launcher: Launcher, jobs: readonly KitJob[]): Promise<LaunchHandle[]> {
    const outcomes: SubmitOutcome[] = await launcher.submit(jobs.map((job) => job.request));
    expect(outcomes, 'submit answers one outcome per request').toHaveLength(jobs.length);
    return outcomes.map((outcome, index) => {
      const job = jobs[index]!;
      if ('failure' in outcome) throw new Error(`the launcher refused job ${index} (${job.request.name}): ${outcome.failure.reason}: ${outcome.failure.message}`);
      const { handle } = outcome;
      expect(handle, `handle ${index} names the launcher, its kind and the job directory of request ${index}`).toMatchObject({
        launcher: LAUNCHER_NAME,
        kind: this.#host.target.kind,
        directory: job.request.directory,
      });
      expect(Number.isNaN(Date.parse(handle.submittedAt)), `handle ${index} has an ISO 8601 submittedAt (${handle.submittedAt})`).toBe(false);
      expect(['queued', 'running', undefined], `the state after submission of job ${index}`).toContain(outcome.state);
      this.#submitted.set(handle.directory, { handle, state: outcome.state ?? 'queued' });
      return handle;
    });
  }

  /**
   * Asks the launcher about the handles, in one status call each time, until `until` holds;
   * every answer must be one of the allowed states. Returns the last answers.
   */
  async follow(launcher: Launcher, handles: readonly LaunchHandle[], options: FollowOptions): Promise<LaunchStatus[]> {
    const { timeoutMs } = this.#host.target;
    const deadline = Date.now() + timeoutMs;
    const interval = Math.min(Math.max(launcher.pollIntervalMs, 100), 1000);
    for (;;) {
      const statuses = await launcher.status(handles);
      expect(statuses, `one status per handle (${options.what})`).toHaveLength(handles.length);
      statuses.forEach((status, index) => {
        // Only the jobs this test submitted are cancelled at its end, not handles made up.
        const handle = handles[index]!;
        if (this.#submitted.has(handle.directory)) this.#submitted.set(handle.directory, { handle, state: status.state });
        const detail = status.detail ? ` (${status.detail})` : '';
        expect(options.allowed[index], `handle ${index} answered "${status.state}"${detail} while waiting for ${options.what}`).toContain(status.state);
      });
      if (await options.until(statuses)) return statuses;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}; the last answers: ${JSON.stringify(statuses)} (the kit's timeoutMs option gives jobs more time)`);
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  /** Lets every gated job go, cancels the jobs not seen finished, closes the launchers; best effort, so the next test finds the host free. */
  async end(): Promise<void> {
    const connector = this.connector;
    await Promise.all(this.#jobs.filter((job) => job.spec.gated).map((job) => releaseJob(connector, job).catch(() => undefined)));
    const unfinished = [...this.#submitted.values()].filter(({ state }) => state !== 'finished').map(({ handle }) => handle);
    const launcher = this.#launchers.at(-1);
    if (launcher && unfinished.length > 0) {
      await launcher.cancel(unfinished).catch((error: unknown) => this.#host.logger.debug(`cancel of the test's jobs left: ${(error as Error).message}`));
    }
    for (const each of this.#launchers) await each.close?.().catch(() => undefined);
  }
}
