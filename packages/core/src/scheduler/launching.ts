// From ready to in flight, for one launcher's lane: claim and write jobs ahead
// of free slots, take their tokens, and hand them to the launcher in batches
// within its bound. Every step that frees something wakes the scheduler.
import type { Job } from '../job/job.ts';
import { jobFile } from '../job/jobFiles.ts';
import type { Connector, FailureInfo, JobState, LaunchHandle, LaunchRequest, Requirements } from '../types.ts';
import type { Admission } from './admission.ts';
import type { FaultLog } from './faults.ts';
import { writeFailedMarker, writeProcessFile } from './jobMarkers.ts';
import type { LauncherLane, PreparedJob } from './launcherLane.ts';
import type { TokenShares } from './tokenShares.ts';

export interface LaunchingContext {
  connector: Connector;
  admission: Admission;
  faults: FaultLog;
  tokens: TokenShares;
  /** The requirements alternative chosen for a ready job. */
  requirements(job: Job): Requirements;
  /** The launcher took the job: follow it. */
  fly(job: Job, lane: LauncherLane, handle: LaunchHandle, state: 'queued' | 'running'): void;
  finish(job: Job, state: JobState, failure?: FailureInfo): void;
  /** The job could not have its tokens now: try again when shares may have freed up. */
  block(job: Job): void;
  isStopped(): boolean;
  /** The experiment stopped before the job was launched: it settles as not started. */
  abandon(job: Job): void;
  /** Something freed up (a slot, a claim): look at the lanes again. */
  wake(): void;
  /** Keeps a promise for close() and logs its failure. */
  track(promise: Promise<unknown>): void;
}

export class Launching {
  readonly #context: LaunchingContext;

  constructor(context: LaunchingContext) {
    this.#context = context;
  }

  /** One look at a lane: claim and write ready jobs ahead of free slots, then hand over what fits. */
  advance(lane: LauncherLane): void {
    if (!lane.launcher) return;
    for (let count = lane.prefetchCount(); count > 0; count--) this.#context.track(this.#prepare(lane, lane.ready.shift()!));
    this.#start(lane);
  }

  /** Claims a ready job and writes its files; the claim is held until the job is handed over. */
  async #prepare(lane: LauncherLane, job: Job): Promise<void> {
    lane.preparing++;
    try {
      const claimed = await this.#context.admission.prepareForLaunch(job, { script: lane.launcher?.runsJobScript !== false });
      if (claimed && this.#context.isStopped()) {
        await claimed.release();
        this.#context.abandon(job);
      } else if (claimed) lane.prepared.push({ job, release: claimed.release, firstLaunch: claimed.firstLaunch });
    } catch (error) {
      this.#context.finish(job, 'failed', this.#context.faults.jobFault(job, error, { doing: 'could not prepare the job', reason: 'rejected' }));
    } finally {
      lane.preparing--;
      this.#context.wake();
    }
  }

  /** Hands prepared jobs to the launcher, within its bound, tokens first, in one batch. */
  #start(lane: LauncherLane): void {
    if (lane.isGathering() || lane.prepared.length === 0) return;
    let room = lane.freeSlots();
    const batch: PreparedJob[] = [];
    while (room > 0 && lane.prepared.length > 0) {
      const entry = lane.prepared.shift()!;
      room--;
      if (holdsTokens(entry.job)) this.#context.track(this.#startWithTokens(lane, entry));
      else batch.push(entry);
    }
    if (batch.length > 0) this.#context.track(this.#submit(lane, batch));
  }

  async #startWithTokens(lane: LauncherLane, entry: PreparedJob): Promise<void> {
    lane.starting++;
    let acquired = false;
    try {
      acquired = await this.#context.tokens.acquire(entry.job);
    } catch (error) {
      await entry.release();
      this.#context.finish(entry.job, 'failed', this.#context.faults.jobFault(entry.job, error, { doing: 'could not take its tokens', reason: 'rejected' }));
      return;
    } finally {
      lane.starting--;
      this.#context.wake();
    }
    if (!acquired) {
      // Wait without a slot or a claim: jobs that need no token go on.
      await entry.release();
      this.#context.block(entry.job);
      this.#context.wake();
      return;
    }
    await this.#submit(lane, [entry]);
  }

  async #submit(lane: LauncherLane, entries: PreparedJob[]): Promise<void> {
    const { connector, tokens } = this.#context;
    const launcher = lane.launcher!;
    lane.starting += entries.length;
    let counted = true;
    /** Jobs whose directory now says what became of them (process.json or a marker). */
    const recorded = new Set<Job>();
    try {
      const requests = entries.map(({ job }) => launchRequest(job, connector, this.#context.requirements(job)));
      const changesBefore = lane.changesTold;
      const outcomes = await launcher.submit(requests);
      const started: { job: Job; handle: LaunchHandle; firstLaunch: boolean }[] = [];
      const record = (job: Job) => () => void recorded.add(job);
      const failures: Promise<void>[] = [];
      entries.forEach(({ job, firstLaunch = false }, i) => {
        const outcome = outcomes[i];
        if (outcome && 'handle' in outcome) {
          this.#context.fly(job, lane, outcome.handle, outcome.state ?? 'queued');
          started.push({ job, handle: outcome.handle, firstLaunch });
          return;
        }
        const failure = outcome?.failure ?? { code: null, reason: 'rejected' as const, message: 'the launcher returned no outcome' };
        failures.push(writeFailedMarker(connector, job.directory, failure).then(record(job)).then(() => this.#context.finish(job, 'failed', failure)));
      });
      // Those that flew now count as flights, those that failed not at all.
      lane.starting -= entries.length;
      counted = false;
      // Written before the claims are released: a process waiting for the claim then re-attaches.
      await Promise.all([
        ...started.map(({ job, handle, firstLaunch }) =>
          writeLaunchRecord(connector, handle, firstLaunch).then(() => {
            recorded.add(job);
            // Most jobs hold no token: nothing to rebind (and no promise per job for it).
            if (tokens.holds(job)) return tokens.rebind(job, handle);
          }),
        ),
        ...failures,
      ]);
      // A short job may have ended, and its launcher said so, before it was followed: the poll
      // that change caused did not see it. Not asked again when no change came meanwhile.
      if (lane.changesTold !== changesBefore) lane.pollSoon();
    } catch (error) {
      for (const { job } of entries) {
        if (job.isFinished || lane.flights.has(job.hash)) continue;
        this.#context.finish(job, 'failed', this.#context.faults.jobFault(job, error, { doing: `could not launch on "${launcher.name}"`, reason: 'rejected' }));
      }
    } finally {
      if (counted) lane.starting -= entries.length;
      await Promise.all(entries.map((entry) => entry.release(recorded.has(entry.job))));
      this.#context.wake();
    }
  }
}

/**
 * Writes process.json, once per launch, under the job's claim: a process that would re-attach
 * waits for the claim, and a reader that finds it half-written takes it as absent
 * (readProcessFile). So a first launch creates it in one go; a later launch replaces the
 * earlier one's whole (write beside, then rename).
 */
async function writeLaunchRecord(connector: Connector, handle: LaunchHandle, firstLaunch: boolean): Promise<void> {
  if (!firstLaunch) return writeProcessFile(connector, handle);
  await connector.appendFile(jobFile(handle.directory, 'process'), `${JSON.stringify(handle, null, 2)}\n`);
}

/** Whether the job asks for any token (a look, without an array of its names per job). */
function holdsTokens(job: Job): boolean {
  for (const name in job.tokens) if (Object.hasOwn(job.tokens, name)) return true;
  return false;
}

function launchRequest(job: Job, connector: Connector, requirements: Requirements): LaunchRequest {
  return {
    taskId: job.taskId,
    hash: job.hash,
    directory: connector.resolve(job.directory),
    scriptPath: connector.resolve(jobFile(job.directory, 'script')),
    name: `${job.taskId}-${job.hash.slice(0, 8)}`,
    requirements,
    ...(job.task.resumable ? { resumable: { signalAheadSeconds: job.task.resumable.signalAheadSeconds } } : {}),
  };
}
