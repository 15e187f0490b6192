// What the monitor shows, from one of two sources: a workspace's files (`baton monitor`),
// or a live run (`baton run-experiment --port`). Both say when something may have changed.
import type { Connector, JobRecord } from '@baton/core';
import type { ExperimentView, JobView, MonitorJobState, ServiceView } from '../types.ts';

export interface MonitorData {
  readonly mode: 'workspace' | 'experiment';
  /** Absolute path of the workspace, as its host sees it. */
  readonly workspacePath: string;
  /** Reaches the workspace's files: this machine's, or another host's. */
  readonly connector: Connector;
  /** The experiment and run served, in experiment mode. */
  readonly experiment?: { name: string; runId: string };
  jobs(): Promise<JobView[]>;
  experiments(): Promise<ExperimentView[]>;
  /** Jobs whose outputs this job takes (from its params.json, or the live job). */
  dependencies(job: { taskId: string; hash: string; directory: string }): Promise<{ taskId: string; hash: string }[]>;
  /** Jobs of the source that take this job's outputs. */
  dependents(job: { taskId: string; hash: string }): Promise<{ taskId: string; hash: string }[]>;
  /** The job read from its files, for a kill (its process, its launcher). */
  record(directory: string): Promise<JobRecord | undefined>;
  /** Services the experiments' runs recorded (workspace mode), shown but not proxied. */
  recordedServices(): Promise<ServiceView[]>;
  /** Called when something may have changed; while anyone listens, the source keeps looking. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

/** The state of each dependency, when it is among the jobs shown. */
export function withStates(references: readonly { taskId: string; hash: string }[], jobs: readonly JobView[]): { id: string; taskId: string; hash: string; state?: MonitorJobState }[] {
  const states = new Map(jobs.map((job) => [job.id, job.state]));
  return references.map(({ taskId, hash }) => {
    const id = `${taskId}/${hash}`;
    const state = states.get(id);
    return state === undefined ? { id, taskId, hash } : { id, taskId, hash, state };
  });
}
