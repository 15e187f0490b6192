/** Content of a job's params.json: enough for any process to know what the job is. */
export interface JobParamsFile {
  taskId: string;
  hash: string;
  /** Task version, when the task declares one (it is part of the identity then). */
  version?: number;
  /** Parameters as they enter the identity (outputs as {"$job": hash, path}, defaults left out). */
  params: unknown;
  /**
   * Parameters the job runs with (defaults filled, outputs as absolute paths, options
   * included), in the tagged encoding of task/paramValues.ts: Date, Set, Map, bigint
   * as {"$date"}, {"$set"}, {"$map"}, {"$bigint"}.
   */
  resolved: Record<string, unknown>;
  /** Parameters declared outside the identity (option()), at their place; also in `resolved`. */
  options?: Record<string, unknown>;
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
