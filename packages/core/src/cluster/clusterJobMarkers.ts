// What a cluster launcher knows better than job.sh, kept in the job's markers: a job
// the scheduler requeued has a stale `failed` marker to drop, and a job the scheduler
// stopped (time limit, out of memory, cancel...) gets the scheduler's reason written
// into its `failed` marker, so that the marker, the live output and
// `baton jobs list` agree.
import { posix } from 'node:path';
import { JOB_FILES } from '../job/jobFiles.ts';
import { launcherMayKnowBetter, readMarkers, settleFailure, writeFailedMarker, type JobProvenance } from '../scheduler/jobMarkers.ts';
import type { Connector, FailureInfo, LaunchHandle, LoggerLike } from '../types.ts';

export class ClusterJobMarkers {
  readonly #connector: Connector;
  readonly #logger: LoggerLike;
  readonly #scheduler: string;
  /** Jobs seen started (a later pending state is a requeue). */
  readonly #seenStarted = new Set<string>();
  /** Pending jobs whose markers were looked at once. */
  readonly #pendingChecked = new Set<string>();

  constructor(options: { connector: Connector; logger: LoggerLike; /** The scheduler's name in messages. */ scheduler: string }) {
    this.#connector = options.connector;
    this.#logger = options.logger;
    this.#scheduler = options.scheduler;
  }

  seenStarted(clusterId: string): void {
    this.#seenStarted.add(clusterId);
  }

  /** The job ended or the scheduler forgot it: nothing more to remember. */
  forget(clusterId: string): void {
    this.#seenStarted.delete(clusterId);
    this.#pendingChecked.delete(clusterId);
  }

  /** True when job.sh wrote `done`, or `failed` for a reason of its own (a signal is the scheduler's to explain: time limit, cancel or requeue). */
  async hasFinalMarker(directory: string): Promise<boolean> {
    const markers = await readMarkers(this.#connector, directory);
    return markers.state === 'done' || (markers.state !== 'none' && !launcherMayKnowBetter(markers));
  }

  /**
   * A job the scheduler has pending again after job.sh saw its signal was requeued (preemption,
   * a node failure, an explicit requeue): the `failed` marker of the stopped attempt is stale.
   * Removed, so that no one shows the job failed or retries it while the scheduler runs it again.
   * `requeueHinted`: the scheduler's own record says the job was requeued.
   */
  async dropRequeuedMarker(handle: LaunchHandle, options: { requeueHinted: boolean }): Promise<void> {
    const id = handle.clusterId!;
    // The markers of a pending job are read once (re-attach, `baton jobs list`), then again only
    // when it may have been requeued: not one file read per queued job per poll.
    const mayBeRequeued = options.requeueHinted || this.#seenStarted.has(id) || !this.#pendingChecked.has(id);
    this.#pendingChecked.add(id);
    if (!mayBeRequeued) return;
    const markers = await readMarkers(this.#connector, handle.directory);
    if (!launcherMayKnowBetter(markers)) return;
    this.#logger.debug(`${this.#scheduler} job ${id} was requeued: removing the failed marker of its stopped attempt in ${handle.directory}`);
    await this.#connector.remove(posix.join(handle.directory, JOB_FILES.failed));
  }

  /**
   * Writes the scheduler's verdict on a job that ended into its `failed` marker when job.sh could
   * only see a signal; returns the failure to report. With `provenance` (when and where the
   * scheduler ran it), a job the scheduler killed before job.sh could write anything gets its
   * marker here, so that it still says when and where it ran.
   */
  async recordVerdict(handle: LaunchHandle, verdict: FailureInfo, provenance?: JobProvenance): Promise<FailureInfo> {
    const markers = await readMarkers(this.#connector, handle.directory);
    if (markers.state === 'none' && provenance) {
      await writeFailedMarker(this.#connector, handle.directory, verdict, provenance);
      return verdict;
    }
    if (markers.state !== 'failed') return verdict;
    const { failure, rewrite } = settleFailure({ marker: markers.failure, launcher: verdict, cancelRequested: false });
    if (rewrite) await writeFailedMarker(this.#connector, handle.directory, failure, markers.provenance);
    return failure;
  }
}
