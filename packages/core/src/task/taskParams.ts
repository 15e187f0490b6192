// From what a submitter passes to what a job is: validated parameters, the
// dependencies they carry, and the subset that enters the identity.
import { z } from 'zod';
import { UserInputError } from '../errors.ts';
import type { Task } from './defineTask.ts';
import { canonicalJson } from './identity.ts';
import { JobOutput, type JobReference } from './jobOutput.ts';

export interface PreparedParams {
  /** Validated parameters with defaults, outputs as absolute paths: what the job sees. */
  resolved: Record<string, unknown>;
  /** Validated parameters, outputs kept as JobOutput, defaults left out: what the identity hashes. */
  identity: Record<string, unknown>;
  /** Jobs whose outputs appear in the parameters, each once. */
  dependencies: JobReference[];
}

export function prepareParams(task: Task, input: unknown): PreparedParams {
  const outputs = new Map<string, JobOutput>();
  const substituted = substituteOutputs(input ?? {}, [], outputs);
  const parsed = task.params.safeParse(substituted);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  - ${issue.path.length ? formatPath(issue.path) : '(params)'}: ${issue.message}`);
    throw new UserInputError(`Invalid parameters for task "${task.id}":\n${issues.join('\n')}`, {
      where: `submit(${task.id}, ${describeInput(input)})`,
      hint: 'fix the parameters to match the task\'s params schema',
    });
  }
  const resolved = parsed.data as Record<string, unknown>;
  const identity = structuredCloneWithOutputs(resolved, outputs);
  for (const [key, schema] of Object.entries(task.params.shape as Record<string, z.ZodType>)) {
    if (schema instanceof z.ZodDefault && key in identity) {
      const fallback = (schema._zod.def as { defaultValue: unknown }).defaultValue;
      if (canonicalJson(identity[key]) === canonicalJson(fallback)) delete identity[key];
    }
  }
  const dependencies = new Map<string, JobReference>();
  for (const output of outputs.values()) dependencies.set(output.job.hash, output.job);
  return { resolved, identity, dependencies: [...dependencies.values()] };
}

/** Replaces JobOutput values by their paths (for the schema), remembering where they were. */
function substituteOutputs(value: unknown, path: (string | number)[], outputs: Map<string, JobOutput>): unknown {
  if (value instanceof JobOutput) {
    outputs.set(JSON.stringify(path), value);
    return value.path;
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteOutputs(item, [...path, i], outputs));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteOutputs(item, [...path, key], outputs);
    return out;
  }
  return value;
}

/** Deep copy of parsed params with JobOutputs put back where their path string survived parsing. */
function structuredCloneWithOutputs(value: Record<string, unknown>, outputs: Map<string, JobOutput>): Record<string, unknown> {
  // Without outputs only top-level keys change (defaults are dropped): a shallow copy will do.
  if (outputs.size === 0) return { ...value };
  const copy = structuredClone(value);
  for (const [key, output] of outputs) {
    const path = JSON.parse(key) as (string | number)[];
    let parent: any = copy;
    for (const part of path.slice(0, -1)) parent = parent?.[part];
    const last = path[path.length - 1]!;
    if (parent && parent[last] === output.path) parent[last] = output;
  }
  return copy;
}

function describeInput(input: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(input) ?? String(input);
  } catch {
    text = String(input);
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join('');
}
