// Job identity: SHA-256 over a canonical encoding of (task id, parameters).
// Parameters equal to their declared default are left out, so adding a parameter
// with a default keeps the identity of existing jobs. A dependency enters as its
// job's hash. Changing anything here moves every job: identity.test.ts pins it.
import { createHash } from 'node:crypto';
import { JobOutput } from './jobOutput.ts';

/** Identity format version, part of the hashed text. */
const IDENTITY_VERSION = 1;

export interface IdentityInput {
  taskId: string;
  /** Parameters as given (JobOutput values allowed), already stripped of defaults. */
  params: Record<string, unknown>;
}

export function jobIdentity({ taskId, params }: IdentityInput): string {
  const text = canonicalJson({ v: IDENTITY_VERSION, task: taskId, params });
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Deterministic JSON: object keys sorted, undefined dropped, -0 as 0,
 * JobOutput as {"$job": hash, "path": ...}. Non-finite numbers and other
 * non-JSON values are rejected rather than silently encoded.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(identityValue(value));
}

/** The JSON value that the identity hashes (sorted keys, outputs as `{"$job", path}`). */
export function identityValue(value: unknown): unknown {
  return canonicalValue(value, '$');
}

function canonicalValue(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${path}: ${value} cannot enter a job identity`);
    return Object.is(value, -0) ? 0 : value;
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof JobOutput) return { $job: value.job.hash, path: value.relativePath };
  if (value instanceof Date) return { $date: value.toISOString() };
  if (Array.isArray(value)) return value.map((item, i) => canonicalValue(item === undefined ? null : item, `${path}[${i}]`));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      out[key] = canonicalValue(item, `${path}.${key}`);
    }
    return out;
  }
  throw new TypeError(`${path}: a ${typeof value} cannot enter a job identity`);
}
