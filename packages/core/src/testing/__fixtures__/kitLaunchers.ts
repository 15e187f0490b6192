// A small launcher of detached local processes, right or with one fault, to check
// that the conformance kit passes a launcher that keeps the contract and fails one
// that breaks it.
import { z } from 'zod';
import { JOB_FILES } from '../../job/jobFiles.ts';
import { definePlugin } from '../../plugin/definePlugin.ts';
import type { Connector, HostDescription, LaunchHandle, LaunchRequest, LaunchStatus, Launcher, Plugin, SubmitOutcome } from '../../types.ts';

/** What is wrong with the launcher. */
export type KitFault =
  | 'none'
  /** Answers a status call in reverse order. */
  | 'reversed'
  /** Says `running` of a job it did not submit whose process it does not find. */
  | 'runningWhenUnknown'
  /** Cancels nothing. */
  | 'noCancel'
  /** Knows only the jobs it submitted itself: `unknown` for the others (no re-attach). */
  | 'forgetful'
  /** Its settings schema lets unknown keys through. */
  | 'looseSettings';

/** A process whose command line does not name the job yet has not exec'd job.sh: it counts as the job this long. */
const JUST_STARTED_MS = 5000;

class KitLauncher implements Launcher {
  readonly kind = 'kit';
  readonly name: string;
  readonly connector: Connector;
  readonly host: HostDescription = {};
  readonly pollIntervalMs = 100;
  readonly #fault: KitFault;
  readonly #submitted = new Set<string>();

  constructor(options: { name: string; connector: Connector; fault: KitFault }) {
    this.name = options.name;
    this.connector = options.connector;
    this.#fault = options.fault;
  }

  submit(requests: readonly LaunchRequest[]): Promise<SubmitOutcome[]> {
    return Promise.all(
      requests.map(async (request): Promise<SubmitOutcome> => {
        const { pid } = await this.connector.spawnDetached(['/bin/sh', request.scriptPath], {
          cwd: request.directory,
          stdoutPath: `${request.directory}/${JOB_FILES.stdout}`,
          stderrPath: `${request.directory}/${JOB_FILES.stderr}`,
        });
        this.#submitted.add(request.directory);
        const handle: LaunchHandle = { launcher: this.name, kind: this.kind, host: this.connector.hostname, directory: request.directory, pid, submittedAt: new Date().toISOString() };
        return { handle, state: 'running' };
      }),
    );
  }

  async status(handles: readonly LaunchHandle[]): Promise<LaunchStatus[]> {
    const statuses = await Promise.all(handles.map((handle) => this.#statusOne(handle)));
    return this.#fault === 'reversed' ? statuses.reverse() : statuses;
  }

  async cancel(handles: readonly LaunchHandle[]): Promise<void> {
    if (this.#fault === 'noCancel') return;
    for (const handle of handles) if (await this.#alive(handle)) await this.connector.killProcessGroup(handle.pid!, 'SIGTERM');
  }

  async #statusOne(handle: LaunchHandle): Promise<LaunchStatus> {
    if (handle.pid === undefined || handle.host !== this.connector.hostname) return { state: 'unknown' };
    if (this.#fault === 'forgetful' && !this.#submitted.has(handle.directory)) return { state: 'unknown' };
    if (await this.#alive(handle)) return { state: 'running' };
    return { state: this.#fault === 'runningWhenUnknown' && !this.#submitted.has(handle.directory) ? 'running' : 'finished' };
  }

  async #alive(handle: LaunchHandle): Promise<boolean> {
    if (handle.pid === undefined) return false;
    if (await this.connector.isProcessAlive(handle.pid, handle.directory)) return true;
    return Date.now() - Date.parse(handle.submittedAt) < JUST_STARTED_MS && (await this.connector.isProcessAlive(handle.pid));
  }
}

export function kitPlugin(fault: KitFault): Plugin {
  const shape = { tag: z.string().default('kit').describe('A word') };
  const settings = fault === 'looseSettings' ? z.object(shape).passthrough() : z.object(shape).strict();
  return definePlugin({
    name: `kit-${fault}`,
    launchers: { kit: { settings, create: (_settings: unknown, context) => new KitLauncher({ name: context.name, connector: context.connector, fault }) } },
  });
}
