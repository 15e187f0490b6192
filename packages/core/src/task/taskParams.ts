// From what a submitter passes to what a job is: validated parameters, the
// dependencies they carry, and the subset that enters the identity.
import { BatonError, UserInputError } from '../errors.ts';
import type { Task } from './defineTask.ts';
import { identityValue, isPlainObject } from './identity.ts';
import { splitParams } from './identityParams.ts';
import { JobOutput, shortJobName, submittedJob, type JobReference } from './jobOutput.ts';
import { encodeParamValue } from './paramValues.ts';
import { submitWhere } from './submitWhere.ts';

export interface PreparedParams {
  /** Validated parameters with defaults, outputs as absolute paths: exactly what the job receives. */
  resolved: Record<string, unknown>;
  /** Validated parameters, outputs kept as JobOutput, defaults and options left out: what the identity hashes. */
  identity: Record<string, unknown>;
  /** Parameters declared outside the identity with option(), at their place (empty when none). */
  options: Record<string, unknown>;
  /** Jobs whose outputs appear in the parameters, each once. */
  dependencies: JobReference[];
  /** `identity` in its canonical form (identityValue), for the job's hash (identityHash). */
  canonicalIdentity: unknown;
}

export function prepareParams(task: Task, input: unknown): PreparedParams {
  const outputs = new Map<string, JobOutput>();
  // Built only for an error: a JSON encoding of the input and a look at the stack per submit would cost every job.
  const where = () => submitWhere(task, describeInput(input));
  const substituted = substituteOutputs(input ?? {}, [], outputs, where);
  const parsed = task.params.safeParse(substituted);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  - ${issue.path.length ? formatPath(issue.path) : '(params)'}: ${issue.message}`);
    throw new UserInputError(`Invalid parameters for task "${task.id}":\n${issues.join('\n')}`, {
      where: where(),
      hint: 'fix the parameters to match the task\'s params schema',
    });
  }
  const resolved = parsed.data as Record<string, unknown>;
  const { identity, options } = splitParams(task.params, resolved, outputs);
  let canonicalIdentity: unknown;
  try {
    // Both throw, naming the parameter's path, for a value without a faithful encoding.
    canonicalIdentity = identityValue(identity, 'params');
    encodeParamValue(resolved, 'params');
  } catch (error) {
    if (!(error instanceof BatonError)) throw error;
    throw new UserInputError(`Task "${task.id}": ${error.message}`, { where: where(), hint: error.hint });
  }
  const dependencies = new Map<string, JobReference>();
  for (const output of outputs.values()) dependencies.set(output.job.hash, output.job);
  return { resolved, identity, options, dependencies: [...dependencies.values()], canonicalIdentity };
}

/**
 * Replaces JobOutput values by their paths (for the schema), remembering where they were.
 * A submitted job itself (not one of its outputs) is refused here, before the schema would
 * say only that it expected something else.
 */
function substituteOutputs(value: unknown, path: (string | number)[], outputs: Map<string, JobOutput>, where: () => string): unknown {
  if (value instanceof JobOutput) {
    outputs.set(JSON.stringify(path), value);
    return value.path;
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteOutputs(item, [...path, i], outputs, where));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteOutputs(item, [...path, key], outputs, where);
    return out;
  }
  const job = submittedJob(value);
  if (job) {
    throw new UserInputError(`${path.length > 0 ? formatPath(path) : '(params)'}: the job ${shortJobName(job)} itself cannot be a parameter`, {
      where: where(),
      hint: "to depend on it, pass one of its outputs: job.output (its directory) or job.path('file') (a file in it); the task then waits for it and receives the path",
    });
  }
  return value;
}

function describeInput(input: unknown): string {
  let text: string;
  try {
    text =
      JSON.stringify(input, (_key, value: unknown) => {
        if (typeof value === 'bigint') return `${value}n`;
        if (value instanceof Set || value instanceof Map) return [...value];
        // A submitted job by its name, not its task's schema and everything else it holds.
        const job = submittedJob(value);
        return job ? `<job ${shortJobName(job)}>` : value;
      }) ?? String(input);
  } catch {
    text = String(input);
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join('');
}
