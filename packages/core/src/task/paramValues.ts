// How parameter values travel to a job through params.json: a tagged JSON
// encoding that brings back exactly what the schema produced at submit
// (Date, Set, Map, bigint, -0, NaN included), so that a function task's job
// never parses its parameters a second time.
import { UserInputError } from '../errors.ts';
import { describeValueKind, isPlainObject } from './identity.ts';
import { REFUSED, walkNamingRefusals } from './pathlessWalk.ts';

/** Keys that mark a tagged value; a plain object holding one is wrapped as {"$object": ...}. */
const TAGS = new Set(['$object', '$set', '$map', '$date', '$bigint', '$number', '$undefined', '$job']);

/** The JSON form of a parameter value (order kept); refuses values that cannot come back as they are. */
export function encodeParamValue(value: unknown, path = 'params'): unknown {
  return walkNamingRefusals(encode, value, path);
}

/**
 * JSON values and plain containers, the common case, here; the rest in encodeOther. A
 * small function for the hot path: V8 optimises it once per run, and a walker with every
 * kind of value in it took ~20 ms of a background thread to optimise.
 */
function encode(value: unknown, path: string | undefined): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) return value;
  if (Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype) {
    return value.map((item, i) => encode(item, path && `${path}[${i}]`));
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    let tagged = false;
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item === undefined) continue;
      if (TAGS.has(key)) tagged = true;
      out[key] = encode(item, path && `${path}.${key}`);
    }
    return tagged ? { $object: out } : out;
  }
  return encodeOther(value, path);
}

function encodeOther(value: unknown, path: string | undefined): unknown {
  if (typeof value === 'number') return { $number: Object.is(value, -0) ? '-0' : String(value) };
  if (value === undefined) return { $undefined: true };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Date && Object.getPrototypeOf(value) === Date.prototype) {
    if (Number.isNaN(value.getTime())) throw untransportable(value, path, 'an invalid Date');
    return { $date: value.toISOString() };
  }
  if (value instanceof Set && Object.getPrototypeOf(value) === Set.prototype) {
    return { $set: [...value].map((item, i) => encode(item, path && `${path}[member ${i}]`)) };
  }
  if (value instanceof Map && Object.getPrototypeOf(value) === Map.prototype) {
    return { $map: [...value].map(([key, item], i) => [encode(key, path && `${path}[key ${i}]`), encode(item, path && `${path}[key ${i} value]`)]) };
  }
  throw untransportable(value, path);
}

/** Inverse of encodeParamValue. Plain JSON written by earlier versions decodes as itself. */
export function decodeParamValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeParamValue);
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [tag] = keys as [string];
    const content = value[tag];
    switch (tag) {
      case '$object':
        return decodeEntries(content as Record<string, unknown>);
      case '$set':
        return new Set((content as unknown[]).map(decodeParamValue));
      case '$map':
        return new Map((content as [unknown, unknown][]).map(([key, item]) => [decodeParamValue(key), decodeParamValue(item)]));
      case '$date':
        return new Date(content as string);
      case '$bigint':
        return BigInt(content as string);
      case '$number':
        return content === '-0' ? -0 : Number(content);
      case '$undefined':
        return undefined;
    }
  }
  return decodeEntries(value);
}

function decodeEntries(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = decodeParamValue(item);
  return out;
}

function untransportable(value: unknown, path: string | undefined, kind?: string): UserInputError | typeof REFUSED {
  if (path === undefined) return REFUSED;
  return new UserInputError(`${path}: ${kind ?? describeValueKind(value)} cannot be passed to a job`, {
    where: path,
    hint:
      'a parameter is a JSON value, a bigint, a Date, a Set or a Map; turn it into one of these ' +
      '(e.g. url.href instead of a URL), and rebuild the object inside the task',
  });
}
