// Jobs as the API shows them, from the files (a catalog record) or from a live run (a Job).
import type { Job, JobProvenance, JobRecord } from '@baton/core';
import type { JobView, JobsResponse, MonitorJobState } from '../types.ts';

/** A job of the workspace's files. */
export function recordView(record: JobRecord): JobView {
  return compact({
    id: `${record.taskId}/${record.hash}`,
    taskId: record.taskId,
    hash: record.hash,
    state: record.state,
    ...handleFields(record.handle),
    ...provenanceFields(record.provenance),
    detail: record.detail,
    failure: record.failure,
    experiments: record.experiments,
  });
}

/** A job of a live run, with what its marker says once it has one. */
export function liveJobView(job: Job, experiment: string, provenance: JobProvenance | undefined): JobView {
  return compact({
    id: `${job.taskId}/${job.hash}`,
    taskId: job.taskId,
    hash: job.hash,
    state: job.state,
    ...handleFields(job.handle),
    ...provenanceFields(provenance),
    detail: job.detail,
    failure: job.failure,
    experiments: [experiment],
  });
}

export interface JobFilter {
  state?: string;
  task?: string;
  experiment?: string;
  /** At most this many jobs in the answer. */
  limit?: number;
}

/** Filters the jobs; counts per state are taken before the state filter, so that the filter shows them all. */
export function filterJobs(all: readonly JobView[], filter: JobFilter): JobsResponse {
  const matching = all.filter((job) => (filter.task === undefined || job.taskId === filter.task) && (filter.experiment === undefined || job.experiments.includes(filter.experiment)));
  const counts: Partial<Record<MonitorJobState, number>> = {};
  for (const job of matching) counts[job.state] = (counts[job.state] ?? 0) + 1;
  const jobs = filter.state === undefined ? matching : matching.filter((job) => job.state === filter.state);
  return {
    jobs: jobs.slice(0, filter.limit ?? jobs.length),
    total: jobs.length,
    counts,
    tasks: [...new Set(all.map((job) => job.taskId))].sort(),
  };
}

function handleFields(handle: JobRecord['handle']): Partial<JobView> {
  if (!handle) return {};
  return { launcher: handle.launcher, kind: handle.kind, host: handle.host, clusterId: handle.clusterId, submittedAt: handle.submittedAt };
}

function provenanceFields(provenance: JobProvenance | undefined): Partial<JobView> {
  if (!provenance) return {};
  return {
    startedAt: provenance.startedAt,
    endedAt: provenance.endedAt,
    durationSeconds: provenance.durationSeconds,
    exitCode: provenance.exitCode,
    // Where it ran, which a cluster's handle does not know.
    ...(provenance.host === undefined ? {} : { host: provenance.host }),
  };
}

/** Without its undefined fields: the JSON is the same, the objects compare equal in tests. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}
