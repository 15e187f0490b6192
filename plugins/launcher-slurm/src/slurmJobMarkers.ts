// What the SLURM launcher knows better than job.sh, kept in the job's markers: a job
// SLURM requeued has a stale `failed` marker to drop, and a job SLURM stopped (time
// limit, out of memory...) gets SLURM's reason written into its `failed` marker, so
// that the marker, the live output and `baton jobs list` agree.
import { posix } from 'node:path';
import { JOB_FILES, launcherMayKnowBetter, readMarkers, settleFailure, writeFailedMarker } from '@baton/core';
import type { Connector, FailureInfo, LaunchHandle, LoggerLike } from '@baton/core';
import type { SlurmRecord } from './slurmStates.ts';

export class SlurmJobMarkers {
  readonly #connector: Connector;
  readonly #logger: LoggerLike;
  /** Jobs seen started (a later pending state is a requeue). */
  readonly #seenStarted = new Set<string>();
  /** Pending jobs whose markers were looked at once. */
  readonly #pendingChecked = new Set<string>();

  constructor(options: { connector: Connector; logger: LoggerLike }) {
    this.#connector = options.connector;
    this.#logger = options.logger;
  }

  seenStarted(clusterId: string): void {
    this.#seenStarted.add(clusterId);
  }

  /** The job ended or SLURM forgot it: nothing more to remember. */
  forget(clusterId: string): void {
    this.#seenStarted.delete(clusterId);
    this.#pendingChecked.delete(clusterId);
  }

  /** True when job.sh wrote `done`, or `failed` for a reason of its own (a signal is SLURM's to explain: timeout, scancel or requeue). */
  async hasFinalMarker(directory: string): Promise<boolean> {
    const markers = await readMarkers(this.#connector, directory);
    return markers.state === 'done' || (markers.state !== 'none' && !launcherMayKnowBetter(markers));
  }

  /**
   * A job SLURM has pending again after job.sh saw its signal was requeued (`scontrol requeue`,
   * preemption with requeue, a node failure): the `failed` marker of the stopped attempt is stale.
   * Removed, so that no one shows the job failed or retries it while SLURM will run it again.
   */
  async dropRequeuedMarker(handle: LaunchHandle, record: SlurmRecord): Promise<void> {
    const id = handle.clusterId!;
    // The markers of a pending job are read once (re-attach, `baton jobs list`), then again only
    // when it may have been requeued: not one file read per queued job per poll.
    const mayBeRequeued = record.state.startsWith('REQUEUE') || record.state === 'PREEMPTED' || this.#seenStarted.has(id) || !this.#pendingChecked.has(id);
    this.#pendingChecked.add(id);
    if (!mayBeRequeued) return;
    const markers = await readMarkers(this.#connector, handle.directory);
    if (!launcherMayKnowBetter(markers)) return;
    this.#logger.debug(`SLURM job ${handle.clusterId} was requeued: removing the failed marker of its stopped attempt in ${handle.directory}`);
    await this.#connector.remove(posix.join(handle.directory, JOB_FILES.failed));
  }

  /** Writes SLURM's verdict on a job that ended into its `failed` marker when job.sh could only see a signal; returns the failure to report. */
  async recordVerdict(handle: LaunchHandle, verdict: FailureInfo): Promise<FailureInfo> {
    const markers = await readMarkers(this.#connector, handle.directory);
    if (markers.state !== 'failed') return verdict;
    const { failure, rewrite } = settleFailure({ marker: markers.failure, launcher: verdict, cancelRequested: false });
    if (rewrite) await writeFailedMarker(this.#connector, handle.directory, failure, markers.provenance);
    return failure;
  }
}
