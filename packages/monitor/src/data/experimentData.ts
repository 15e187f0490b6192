// One live run (`baton run-experiment --port`): its jobs as its scheduler sees them, told
// by the experiment's job-state events, with what their markers say once they end.
import { findJobs, readMarkers, type Connector, type Experiment, type JobProvenance, type JobRecord } from '@baton/core';
import type { ExperimentView, JobView, ServiceView } from '../types.ts';
import { liveJobView } from './jobViews.ts';
import type { MonitorData } from './monitorData.ts';

/** Events closer than this are told once (a sweep of 1,000 jobs starting at once). */
const CHANGE_COALESCE_MS = 100;

export class ExperimentData implements MonitorData {
  readonly mode = 'experiment' as const;
  readonly #xp: Experiment;
  /** Markers of finished jobs, read once: a marker does not change once written. */
  readonly #provenance = new Map<string, JobProvenance | undefined>();
  readonly #listeners = new Set<() => void>();
  #pending: NodeJS.Timeout | undefined;
  readonly #onJobState = () => this.#changed();

  constructor(xp: Experiment) {
    this.#xp = xp;
    xp.events.on('job-state', this.#onJobState);
  }

  get workspacePath(): string {
    return this.#xp.workspace.path;
  }

  get connector(): Connector {
    return this.#xp.workspace.connector;
  }

  get experiment(): { name: string; runId: string } {
    return { name: this.#xp.name, runId: this.#xp.runId };
  }

  async jobs(): Promise<JobView[]> {
    const jobs = this.#xp.jobs;
    return Promise.all(jobs.map(async (job) => liveJobView(job, this.#xp.name, job.isFinished ? await this.#markerOf(job) : undefined)));
  }

  async experiments(): Promise<ExperimentView[]> {
    return [{ name: this.#xp.name, runs: [{ id: this.#xp.runId, current: true, jobs: this.#xp.jobs.length }] }];
  }

  /** The run's services are live ones (the service registry's). */
  async recordedServices(): Promise<ServiceView[]> {
    return [];
  }

  async dependencies(job: { taskId: string; hash: string }): Promise<{ taskId: string; hash: string }[]> {
    const live = this.#xp.jobs.find((other) => other.hash === job.hash && other.taskId === job.taskId);
    return (live?.dependencies ?? []).map(({ taskId, hash }) => ({ taskId, hash }));
  }

  async dependents(job: { taskId: string; hash: string }): Promise<{ taskId: string; hash: string }[]> {
    return this.#xp.jobs
      .filter((other) => other.dependencies.some((dependency) => dependency.hash === job.hash && dependency.taskId === job.taskId))
      .map(({ taskId, hash }) => ({ taskId, hash }));
  }

  async record(directory: string): Promise<JobRecord | undefined> {
    const [record] = await findJobs({ workspacePath: this.workspacePath, connector: this.connector, refs: [directory] }).catch(() => []);
    return record;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#xp.events.off('job-state', this.#onJobState);
    if (this.#pending) clearTimeout(this.#pending);
    this.#listeners.clear();
  }

  #changed(): void {
    this.#pending ??= setTimeout(() => {
      this.#pending = undefined;
      for (const listener of [...this.#listeners]) listener();
    }, CHANGE_COALESCE_MS).unref();
  }

  async #markerOf(job: { hash: string; directory: string }): Promise<JobProvenance | undefined> {
    if (this.#provenance.has(job.hash)) return this.#provenance.get(job.hash);
    const marker = await readMarkers(this.connector, job.directory).catch(() => undefined);
    const provenance = marker && marker.state !== 'none' ? marker.provenance : undefined;
    // A job the scheduler saw end has its marker; one that has none yet is read again next time.
    if (marker !== undefined && marker.state !== 'none') this.#provenance.set(job.hash, provenance);
    return provenance;
  }
}
