// Turns zod issues into Baton's `path: message` issues, with key paths written the
// way a user reads them in the settings file (`workspaces[0].launchers.gpu`) and a
// did-you-mean for unknown keys.
import type { z } from 'zod';
import { didYouMean, type Issue } from '../errors.ts';

export interface ZodIssuesOptions {
  issues: readonly z.core.$ZodIssue[];
  /** Schema the issues came from, used to list the keys an unknown key may have meant. */
  schema: z.ZodType;
  /** Key path of the validated value inside the settings file, e.g. `['workspaces', 0, 'launchers', 'gpu']`. */
  prefix?: readonly PropertyKey[];
}

/** One Baton issue per zod issue (one per key for unknown keys). */
export function zodIssuesToIssues(options: ZodIssuesOptions): Issue[] {
  const { issues, schema, prefix = [] } = options;
  const result: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = objectKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        result.push({ path: formatKeyPath([...path, key]), message: `unknown key "${key}"${didYouMean(key, known)}` });
      }
    } else if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      // A map key that breaks its rule (a name that is a folder or part of a URL): the rule's own words.
      for (const inner of issue.issues) result.push({ path: formatKeyPath(path), message: `invalid name: ${inner.message}` });
    } else if (issue.code === 'invalid_type' && !('input' in issue && issue.input !== undefined) && issue.message.endsWith('received undefined')) {
      result.push({ path: formatKeyPath(path), message: `missing (expected ${issue.expected})` });
    } else {
      result.push({ path: formatKeyPath(path), message: issue.message });
    }
  }
  return result;
}

/** `['workspaces', 0, 'launchers', 'gpu']` → `workspaces[0].launchers.gpu` */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) text += text ? `.${key}` : key;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

// Walks a schema along a value path to list the keys the object there accepts.
// Reads zod's definitions, so it also works on schemas built by a plugin's own zod copy.
function objectKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: unknown = schema;
  for (const key of path) {
    current = childSchema(unwrap(current), key);
    if (current === undefined) return [];
  }
  const def = definitionOf(unwrap(current));
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

interface LooseDefinition {
  type: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  valueType?: unknown;
  innerType?: unknown;
  in?: unknown;
  getter?: () => unknown;
}

function definitionOf(schema: unknown): LooseDefinition | undefined {
  return (schema as { _zod?: { def?: LooseDefinition } } | undefined)?._zod?.def;
}

function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let depth = 0; depth < 20; depth++) {
    const def = definitionOf(current);
    if (!def) return current;
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else if (def.type === 'lazy' && def.getter) current = def.getter();
    else return current;
  }
  return current;
}

function childSchema(schema: unknown, key: PropertyKey): unknown {
  const def = definitionOf(schema);
  if (!def) return undefined;
  if (def.type === 'object') return def.shape?.[String(key)];
  if (def.type === 'array') return def.element;
  if (def.type === 'record') return def.valueType;
  return undefined;
}

// A plain z.object() drops unknown keys silently; in a settings file an unknown key is a typo.
export function strictIfObject(schema: z.ZodType): z.ZodType {
  const def = (schema as unknown as { _zod: { def: { type: string; catchall?: unknown } } })._zod.def;
  const strict = (schema as unknown as { strict?: () => z.ZodType }).strict;
  return def.type === 'object' && def.catchall === undefined && typeof strict === 'function' ? strict.call(schema) : schema;
}
