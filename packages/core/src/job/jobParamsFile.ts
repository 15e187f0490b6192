/** Content of a job's params.json: enough for any process to know what the job is. */
export interface JobParamsFile {
  taskId: string;
  hash: string;
  /** Parameters as they enter the identity (outputs as {"$job": hash, path}, defaults left out). */
  params: unknown;
  /** Parameters the job runs with (defaults filled, outputs as absolute paths). */
  resolved: Record<string, unknown>;
  dependencies: { taskId: string; hash: string; directory: string }[];
  /** argv of a command task. */
  command?: readonly string[];
  /** Module URL of a function task. */
  module?: string;
  requirements?: string;
  tokens: Record<string, number>;
  /** Environment overlay exported by job.sh. */
  env: Record<string, string>;
  /** Experiment that wrote this file last. */
  experiment: { name: string; runId: string };
}
