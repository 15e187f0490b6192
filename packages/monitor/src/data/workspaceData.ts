// A whole workspace from its files (`baton monitor`): the job catalog, the experiments'
// runs, read again every poll interval while a page listens, and only then.
import { posix } from 'node:path';
import { RUN_SERVICES_FILE, findJobs, listJobs, type Connector, type HandleStatusFunction, type JobParamsFile, type JobRecord, type ServiceState } from '@baton/core';
import type { ExperimentView, JobView, RunView, ServiceView } from '../types.ts';
import { recordView } from './jobViews.ts';
import type { MonitorData } from './monitorData.ts';

const { join } = posix;

/** How many params.json files are read at once when looking for a job's dependents. */
const PARAMS_READS = 32;

export interface WorkspaceDataOptions {
  path: string;
  connector: Connector;
  status?: HandleStatusFunction;
  pollIntervalMs: number;
}

interface Snapshot {
  at: number;
  jobs: JobView[];
  experiments: ExperimentView[];
  services: ServiceView[];
  /** What a change would change: states, reasons, runs. */
  fingerprint: string;
}

export class WorkspaceData implements MonitorData {
  readonly mode = 'workspace' as const;
  readonly workspacePath: string;
  readonly connector: Connector;
  readonly #status: HandleStatusFunction | undefined;
  readonly #pollIntervalMs: number;
  #snapshot: Snapshot | undefined;
  #reading: Promise<Snapshot> | undefined;
  readonly #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  /** Dependencies of each job, from its params.json (they are part of its identity: they never change). */
  readonly #dependencies = new Map<string, { taskId: string; hash: string }[]>();

  constructor(options: WorkspaceDataOptions) {
    this.workspacePath = options.connector.resolve(options.path);
    this.connector = options.connector;
    this.#status = options.status;
    this.#pollIntervalMs = options.pollIntervalMs;
  }

  async jobs(): Promise<JobView[]> {
    return (await this.#fresh()).jobs;
  }

  async experiments(): Promise<ExperimentView[]> {
    return (await this.#fresh()).experiments;
  }

  async recordedServices(): Promise<ServiceView[]> {
    return (await this.#fresh()).services;
  }

  async dependencies(job: { taskId: string; hash: string; directory: string }): Promise<{ taskId: string; hash: string }[]> {
    const key = `${job.taskId}/${job.hash}`;
    const known = this.#dependencies.get(key);
    if (known) return known;
    const text = await this.connector.readFileIfExists(join(job.directory, 'params.json')).catch(() => undefined);
    if (text === undefined) return [];
    let dependencies: { taskId: string; hash: string }[] = [];
    try {
      const params = JSON.parse(text) as Partial<JobParamsFile>;
      dependencies = (params.dependencies ?? []).map(({ taskId, hash }) => ({ taskId, hash }));
    } catch {
      // A params.json being rewritten, or not one: no dependencies known (not cached).
      return [];
    }
    this.#dependencies.set(key, dependencies);
    return dependencies;
  }

  async dependents(job: { taskId: string; hash: string }): Promise<{ taskId: string; hash: string }[]> {
    const jobs = await this.jobs();
    const found: { taskId: string; hash: string }[] = [];
    for (let start = 0; start < jobs.length; start += PARAMS_READS) {
      const batch = jobs.slice(start, start + PARAMS_READS);
      const lists = await Promise.all(batch.map((other) => this.dependencies({ ...other, directory: join(this.workspacePath, 'jobs', other.taskId, other.hash) })));
      batch.forEach((other, index) => {
        if (lists[index]!.some((dependency) => dependency.taskId === job.taskId && dependency.hash === job.hash)) found.push({ taskId: other.taskId, hash: other.hash });
      });
    }
    return found;
  }

  async record(directory: string): Promise<JobRecord | undefined> {
    const [record] = await findJobs({ workspacePath: this.workspacePath, connector: this.connector, refs: [directory], status: this.#status }).catch(() => []);
    return record;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    this.#timer ??= setInterval(() => void this.#poll(), this.#pollIntervalMs).unref();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#reading?.catch(() => undefined);
  }

  async #poll(): Promise<void> {
    const before = this.#snapshot?.fingerprint;
    const after = await this.#read().catch(() => undefined);
    if (after && after.fingerprint !== before) for (const listener of [...this.#listeners]) listener();
  }

  /** The snapshot, read again when older than the poll interval; one read at a time. */
  #fresh(): Promise<Snapshot> {
    if (this.#snapshot && Date.now() - this.#snapshot.at < this.#pollIntervalMs) return Promise.resolve(this.#snapshot);
    return this.#read();
  }

  #read(): Promise<Snapshot> {
    this.#reading ??= (async () => {
      try {
        const [records, experiments] = await Promise.all([
          listJobs({ workspacePath: this.workspacePath, connector: this.connector, status: this.#status }),
          readExperiments(this.connector, this.workspacePath),
        ]);
        const jobs = records.map(recordView);
        const services = await readRecordedServices(this.connector, this.workspacePath, experiments);
        const fingerprint = JSON.stringify([
          jobs.map((job) => [job.id, job.state, job.detail, job.failure?.reason, job.endedAt, job.experiments]),
          experiments,
          services,
        ]);
        this.#snapshot = { at: Date.now(), jobs, experiments, services, fingerprint };
        return this.#snapshot;
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }
}

/** `<workspace>/experiments/<name>/<run-id>/`, newest run first, with the jobs each run's index names. */
async function readExperiments(connector: Connector, workspacePath: string): Promise<ExperimentView[]> {
  const root = join(workspacePath, 'experiments');
  const names = directories(await connector.listDirectory(root).catch(() => [])).sort();
  return Promise.all(
    names.map(async (name): Promise<ExperimentView> => {
      const base = join(root, name);
      const [entries, current] = await Promise.all([connector.listDirectory(base).catch(() => []), connector.readlink(join(base, 'current')).catch(() => undefined)]);
      const runs = await Promise.all(
        directories(entries)
          .sort()
          .reverse()
          .map(async (id): Promise<RunView> => ({ id, current: id === current, jobs: await countIndexLines(connector, join(base, id, 'jobs.jsonl')) })),
      );
      return { name, runs };
    }),
  );
}

/** The services each experiment's current run recorded in its services.json (as that run last wrote them). */
async function readRecordedServices(connector: Connector, workspacePath: string, experiments: readonly ExperimentView[]): Promise<ServiceView[]> {
  const lists = await Promise.all(
    experiments.map(async (experiment) => {
      const run = experiment.runs.find((each) => each.current);
      if (!run) return [];
      const text = await connector.readFileIfExists(join(workspacePath, 'experiments', experiment.name, run.id, RUN_SERVICES_FILE)).catch(() => undefined);
      return parseRecordedServices(text).map(
        (service): ServiceView => ({
          id: service.id,
          description: service.description ?? service.id,
          state: SERVICE_STATES.has(service.state as ServiceState) ? (service.state as ServiceState) : 'stopped',
          recorded: { experiment: experiment.name, runId: run.id, ...(service.state === 'running' && typeof service.url === 'string' ? { url: service.url } : {}) },
        }),
      );
    }),
  );
  return lists.flat();
}

const SERVICE_STATES = new Set<ServiceState>(['stopped', 'starting', 'running', 'stopping', 'error']);

function parseRecordedServices(text: string | undefined): { id: string; description?: string; state?: string; url?: unknown }[] {
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((entry): entry is { id: string } => typeof entry?.id === 'string') : [];
  } catch {
    // Being rewritten, or not ours: nothing recorded this time.
    return [];
  }
}

async function countIndexLines(connector: Connector, path: string): Promise<number> {
  const text = (await connector.readFileIfExists(path).catch(() => undefined)) ?? '';
  return new Set(text.split('\n').filter((line) => line.trim() !== '')).size;
}

function directories(entries: readonly { name: string; kind: string }[]): string[] {
  // Links (like `current`) are not followed: each run is counted once.
  return entries.filter((entry) => entry.kind === 'directory').map((entry) => entry.name);
}
