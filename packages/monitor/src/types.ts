// Public types of @baton/monitor: its options, and the JSON its API answers with.
import type { CatalogJobState, Experiment, FailureInfo, HandleStatusFunction, JobState, LaunchHandle, Launcher, ServiceLike, ServiceState, Workspace } from '@baton/core';

export interface MonitorOptions {
  /**
   * Serve a whole workspace from its files (every experiment and job on disk, looked at
   * again every `pollIntervalMs` while a page is open): its path, or the workspace opened
   * (its connector reaches a workspace on another host; its launchers cancel jobs).
   */
  workspace?: string | Workspace;
  /** Serve one live run: its jobs as its scheduler sees them, as they change, and its services. */
  experiment?: Experiment;
  /** Address to listen on; default 127.0.0.1 (this machine only). */
  host?: string;
  /** Port to listen on; 0 (the default) takes a free one. */
  port?: number;
  /** The access token; default the experiment's, then $BATON_MONITOR_TOKEN, then a random one. */
  token?: string;
  /** Services reached through the monitor's proxy, besides the experiment's own. */
  services?: readonly ServiceLike[];
  /** Finds the launcher that cancels a job (the kill button); default: the workspace's launcher of that name. */
  launcher?: (handle: LaunchHandle, context: { isLocalHere: boolean }) => Promise<Launcher | undefined>;
  /** Asks launchers about jobs the files cannot settle (cluster jobs), in workspace mode. */
  status?: HandleStatusFunction;
  /** How often a workspace's files are read again while a page is open; default 2000 ms. */
  pollIntervalMs?: number;
  /**
   * Whether the monitor alone keeps Node running (default true). False: it serves while the
   * process has other work (an experiment), and does not keep it from ending.
   */
  holdProcess?: boolean;
}

export interface Monitor {
  /** The URL to open, with the token: `http://127.0.0.1:PORT/?token=...`. */
  readonly url: string;
  /** The same without the token. */
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** Stops serving (open pages lose their live channel); never stops the services. */
  close(): Promise<void>;
}

/** A job's state: the scheduler's (live run) or the files' (`incomplete`: no marker, no live process). */
export type MonitorJobState = JobState | CatalogJobState;

/** A job as the API shows it. */
export interface JobView {
  /** `task-id/hash` */
  id: string;
  taskId: string;
  hash: string;
  state: MonitorJobState;
  launcher?: string;
  /** Launcher kind (`local`, `slurm`...). */
  kind?: string;
  /** Where it runs or ran. */
  host?: string;
  /** Cluster job id. */
  clusterId?: string;
  /** When it was handed to its launcher (ISO 8601). */
  submittedAt?: string;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  exitCode?: number | null;
  /** What its launcher says beyond the state (e.g. SLURM's pending reason). */
  detail?: string;
  failure?: FailureInfo;
  /** Experiments whose runs submitted it. */
  experiments: string[];
}

export interface JobDetailView extends JobView {
  directory: string;
  /** Jobs whose outputs it takes. */
  dependencies: { id: string; taskId: string; hash: string; state?: MonitorJobState }[];
  /** Jobs (among those shown) that take its outputs. */
  dependents: { id: string; taskId: string; hash: string; state?: MonitorJobState }[];
}

export interface JobsResponse {
  jobs: JobView[];
  /** Jobs that match the filters (more than `jobs` when cut at the limit). */
  total: number;
  /** Jobs per state, before the state filter. */
  counts: Partial<Record<MonitorJobState, number>>;
  /** Every task id, for the filter. */
  tasks: string[];
}

export interface RunView {
  id: string;
  /** The run `current` points to. */
  current: boolean;
  /** Jobs it submitted. */
  jobs: number;
}

export interface ExperimentView {
  name: string;
  /** Newest first. */
  runs: RunView[];
}

export interface ServiceView {
  id: string;
  description: string;
  state: ServiceState;
  /** Its address through the monitor's proxy, while it has one. */
  href?: string;
  /**
   * A service an experiment recorded in its run's services.json (workspace mode): its
   * experiment, and its own address as recorded. The proxy does not reach it: its address
   * comes from a file, not from this monitor.
   */
  recorded?: { experiment: string; runId: string; url?: string };
}

export interface OverviewResponse {
  mode: 'workspace' | 'experiment';
  workspace: string;
  /** The experiment and run served, in experiment mode. */
  experiment?: { name: string; runId: string };
  experiments: ExperimentView[];
  services: ServiceView[];
}

export interface LogChunk {
  /** Text from `offset` to `next`. */
  text: string;
  offset: number;
  next: number;
  /** Size of the file when read. */
  size: number;
  /** The job has a marker: nothing more will come. */
  finished: boolean;
}
