// Job identity: SHA-256 over a canonical encoding of (task id, task version,
// parameters). Parameters equal to their declared default, and parameters
// declared outside the identity, are left out before they get here (see
// identityParams.ts). A dependency enters as its job's hash. Changing anything
// here moves every job: identity.test.ts pins it.
import { UserInputError } from '../errors.ts';
import { JobOutput } from './jobOutput.ts';
import { REFUSED, walkNamingRefusals } from './pathlessWalk.ts';

/** Identity format version, part of the hashed text. */
const IDENTITY_VERSION = 1;

/**
 * Keys that mark a tagged value in the canonical encoding. A plain object that
 * has one of them is wrapped as `{"$object": {...}}`, so that no plain object
 * encodes like a Set, a Map, a Date, a bigint or a job output.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['$object', '$set', '$map', '$date', '$bigint', '$job']);

export interface IdentityInput {
  taskId: string;
  /** Task version; enters the identity only when set. */
  version?: number;
  /** Parameters as given (JobOutput values allowed), already stripped of defaults and options. */
  params: Record<string, unknown>;
}

export function jobIdentity({ taskId, version, params }: IdentityInput): string {
  return identityHash({ taskId, version, canonicalParams: identityValue(params, 'params') });
}

/**
 * jobIdentity of parameters already in their canonical form (identityValue's), as
 * submit has them after checking them: the hashed text without a second walk.
 */
export function identityHash({ taskId, version, canonicalParams }: { taskId: string; version?: number | undefined; canonicalParams: unknown }): string {
  // The canonical encoding of the record: its keys sorted (params, task, v, version), the
  // parameters canonical already (walking them again would wrap tagged objects twice).
  const record =
    version === undefined
      ? { params: canonicalParams, task: taskId, v: IDENTITY_VERSION }
      : { params: canonicalParams, task: taskId, v: IDENTITY_VERSION, version: canonicalValue(version, 'version') };
  return sha256(JSON.stringify(record));
}

let cryptoHash: typeof import('node:crypto').hash | undefined;

/**
 * node:crypto taken on first use, not imported: this module comes with every task
 * definition, and a worker thread, which runs tasks but computes no identity,
 * would compile crypto's ~20 internal modules for nothing (Node's startup snapshot
 * has them for the main thread only).
 */
function sha256(text: string): string {
  cryptoHash ??= process.getBuiltinModule('node:crypto').hash;
  return cryptoHash('sha256', text, 'hex');
}

/**
 * Deterministic JSON: object keys sorted, undefined dropped, -0 as 0, JobOutput
 * as {"$job": hash, "path": ...}, Date as {"$date": iso}, bigint as
 * {"$bigint": digits}, Set as {"$set": [members sorted by their encoding]},
 * Map as {"$map": [[key, value]...] sorted by the keys' encoding}. Anything
 * else (non-finite numbers, functions, symbols, class instances, URL, RegExp,
 * Buffer...) is refused with a UserInputError naming its path, never encoded
 * as something else.
 */
export function canonicalJson(value: unknown, root = '$'): string {
  return JSON.stringify(identityValue(value, root));
}

/** The JSON value that the identity hashes. `root` names the value in errors (e.g. `params`). */
export function identityValue(value: unknown, root = '$'): unknown {
  return walkNamingRefusals(canonicalValue, value, root);
}


/** True for `{}`-literal objects and `Object.create(null)`: the only objects that encode as objects. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Names what a value is, for messages: `a URL`, `a function`, `a Uint8Array`. */
export function describeValueKind(value: unknown): string {
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value !== 'object' || value === null) return `a ${typeof value}`;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name ? `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}` : 'an object';
}

/**
 * `path` names the value in errors; undefined: a fast walk that throws REFUSED instead.
 * JSON values and plain containers, the common case, here; the rest in canonicalOther:
 * a small function for the hot path (V8 took ~25 ms of a background thread per run to
 * optimise a walker with every kind of value in it).
 */
function canonicalValue(value: unknown, path: string | undefined): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw refusal(value, path);
    return Object.is(value, -0) ? 0 : value;
  }
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw refusal(value, path);
    return value.map((item, i) => canonicalValue(item === undefined ? null : item, path && `${path}[${i}]`));
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    let reserved = false;
    const keys = Object.keys(value);
    // Sorting allocates, even keys already in order (most parameter objects are small, or built in order).
    if (!isSorted(keys)) keys.sort();
    for (const key of keys) {
      const item = value[key];
      if (item === undefined) continue;
      if (RESERVED_KEYS.has(key)) reserved = true;
      out[key] = canonicalValue(item, path && `${path}.${key}`);
    }
    return reserved ? { $object: out } : out;
  }
  return canonicalOther(value, path);
}

function canonicalOther(value: unknown, path: string | undefined): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof JobOutput) return { $job: value.job.hash, path: value.relativePath };
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw refusal(value, path, 'an invalid Date');
    return { $date: value.toISOString() };
  }
  if (value instanceof Set && Object.getPrototypeOf(value) === Set.prototype) {
    const members = [...value].map((item, i) => canonicalValue(item === undefined ? null : item, path && `${path}[member ${i}]`));
    return { $set: sortByEncoding(members, (member) => member) };
  }
  if (value instanceof Map && Object.getPrototypeOf(value) === Map.prototype) {
    const entries = [...value].map(([key, item], i) => [
      canonicalValue(key === undefined ? null : key, path && `${path}[key ${i}]`),
      canonicalValue(item === undefined ? null : item, path && `${path}[${describeKey(key)}]`),
    ]);
    return { $map: sortByEncoding(entries, (entry) => entry[0]) };
  }
  throw refusal(value, path);
}

/** Whether the keys are in the order sort() gives them (UTF-16 code units). */
function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

function sortByEncoding<T>(items: T[], key: (item: T) => unknown): T[] {
  return items
    .map((item) => ({ item, text: JSON.stringify(key(item)) }))
    .sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
    .map(({ item }) => item);
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : typeof key === 'number' || typeof key === 'boolean' ? String(key) : 'key';
}

/** What a walk throws at a value it cannot encode: the error with its path, or REFUSED on a fast walk. */
function refusal(value: unknown, path: string | undefined, kind?: string): UserInputError | typeof REFUSED {
  return path === undefined ? REFUSED : unencodable(value, path, kind);
}

function unencodable(value: unknown, path: string, kind = describeValueKind(value)): UserInputError {
  return new UserInputError(`${path}: ${kind} cannot enter a job identity`, {
    where: path,
    hint:
      'a parameter is a JSON value, a bigint, a Date, a Set or a Map (or a job output); turn it into one of these, ' +
      'e.g. url.href instead of a URL, in the submit call or with a .transform() in the schema',
  });
}
