// Which part of a job's parameters enters its identity, read from the task's
// zod schema (never guessed from values): a value equal to its declared
// `.default()` is left out at every depth, and so is a parameter declared
// outside the identity with `option(...)`. Wrappers (optional, nullable,
// readonly, default, prefault, catch, lazy, pipes that end in a schema) are
// looked through; arrays, tuples, records, maps, sets and discriminated unions
// are looked into. Where the schema gives no sound answer (a transform's
// output, a plain union) the value enters the identity as it is.
import type { z } from 'zod';
import { JobOutput } from './jobOutput.ts';
import { canonicalJson, isPlainObject } from './identity.ts';

const OPTION = Symbol.for('baton.option');

/**
 * Declares a parameter outside the job's identity (like the reference's Option / Meta):
 * the job receives it, `params.json` records it, but changing it does not make a
 * new job, so a done job is not run again. Use it for worker counts, log levels,
 * cache paths: what changes how a job runs, not what it computes.
 *
 *     params: z.object({ lr: z.number(), workers: option(z.number().int().default(4)) })
 */
export function option<T extends z.ZodType>(schema: T): T {
  // A mark in the definition survives .describe(), .min(), .refine()... (they copy the def).
  return schema.clone({ ...schema._zod.def, [OPTION]: true } as never) as T;
}

/** True when `schema` (or a schema it wraps) was declared with option(). */
export function isOption(schema: z.ZodType): boolean {
  for (let current: AnyDef | undefined = defOf(schema); current; current = wrapped(current)) {
    if (current[OPTION]) return true;
  }
  return false;
}

export interface SplitParams {
  /** What enters the identity: defaults and options left out, outputs kept as JobOutput. */
  identity: Record<string, unknown>;
  /** Parameters declared with option(), at their place in the parameters (empty when none). */
  options: Record<string, unknown>;
}

/**
 * Splits parsed parameters along the schema. `outputs` maps a JSON-encoded path
 * to the JobOutput whose path string the parsed value holds there.
 */
export function splitParams(schema: z.ZodType, value: Record<string, unknown>, outputs: ReadonlyMap<string, JobOutput>): SplitParams {
  const walker = new Walker(outputs);
  const identity = walker.walk(schema, value, []);
  return { identity: (identity === LEFT_OUT ? {} : identity) as Record<string, unknown>, options: walker.options };
}

const LEFT_OUT = Symbol('left out');
/** Path part inside a Map or a Set: encodes as null, which no submitted output's path holds. */
const INSIDE = null as unknown as string;

type AnyDef = Record<PropertyKey, any> & { type: string };

class Walker {
  readonly options: Record<string, unknown> = {};

  constructor(private readonly outputs: ReadonlyMap<string, JobOutput>) {}

  /** The identity form of `value` under `schema`, or LEFT_OUT. */
  walk(schema: z.ZodType | undefined, value: unknown, path: (string | number)[]): unknown {
    const output = this.outputs.size ? this.outputs.get(JSON.stringify(path)) : undefined;
    if (output && value === output.path) return output;
    if (!schema) return this.copy(value, path);
    let def: AnyDef | undefined = defOf(schema);
    // Through the wrappers, outermost first: a default or an option mark anywhere applies.
    const defaults: Fallback[] = [];
    for (; def; ) {
      if (def[OPTION]) {
        this.recordOption(path, value);
        return LEFT_OUT;
      }
      if (def.type === 'default' || def.type === 'prefault') defaults.push(fallbackOf(def));
      // A default before a pipe reaches the job through the pipe's schema.
      if (def.type === 'pipe' && wrapped(def)) defaults.push(...pipedFallbacks(def));
      const inner = wrapped(def);
      if (!inner) break;
      def = inner;
    }
    if (value === undefined) return LEFT_OUT;
    const result = def ? this.structure(def, value, path) : this.copy(value, path);
    for (const fallback of defaults) {
      if (this.equalsDefault(fallback, value, result)) return LEFT_OUT;
    }
    return result;
  }

  private structure(def: AnyDef, value: unknown, path: (string | number)[]): unknown {
    switch (def.type) {
      case 'object': {
        if (!isPlainObject(value)) return this.copy(value, path);
        const shape = def.shape as Record<string, z.ZodType>;
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) {
          const walked = this.walk(Object.hasOwn(shape, key) ? shape[key] : def.catchall, item, [...path, key]);
          if (walked !== LEFT_OUT) out[key] = walked;
        }
        return out;
      }
      case 'array':
        return Array.isArray(value) ? value.map((item, i) => this.keep(this.walk(def.element, item, [...path, i]))) : this.copy(value, path);
      case 'tuple':
        return Array.isArray(value)
          ? value.map((item, i) => this.keep(this.walk((def.items as z.ZodType[])[i] ?? def.rest ?? undefined, item, [...path, i])))
          : this.copy(value, path);
      case 'record': {
        if (!isPlainObject(value)) return this.copy(value, path);
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) {
          const walked = this.walk(def.valueType, item, [...path, key]);
          if (walked !== LEFT_OUT) out[key] = walked;
        }
        return out;
      }
      // Submitted outputs are never looked for inside maps and sets: their members get a path no output has.
      case 'map':
        return value instanceof Map
          ? new Map([...value].map(([key, item]) => [this.keep(this.walk(def.keyType, key, [...path, INSIDE])), this.keep(this.walk(def.valueType, item, [...path, INSIDE]))]))
          : value;
      case 'set':
        return value instanceof Set ? new Set([...value].map((item) => this.keep(this.walk(def.valueType, item, [...path, INSIDE])))) : value;
      case 'union': {
        // A discriminated union says which option produced the value; a plain union does not.
        const option = def.discriminator && isPlainObject(value) ? discriminatedOption(def, value[def.discriminator]) : undefined;
        return option ? this.walk(option, value, path) : this.copy(value, path);
      }
      default:
        return this.copy(value, path);
    }
  }

  /** Inside an array, a set or a map, a left-out value keeps its place as what the job receives. */
  private keep(walked: unknown): unknown {
    return walked === LEFT_OUT ? undefined : walked;
  }

  /** A value the schema says nothing more about: copied, with job outputs put back. */
  private copy(value: unknown, path: (string | number)[]): unknown {
    if (this.outputs.size === 0) return value;
    const output = this.outputs.get(JSON.stringify(path));
    if (output && value === output.path) return output;
    if (Array.isArray(value)) return value.map((item, i) => this.copy(item, [...path, i]));
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.copy(item, [...path, key])]));
    return value;
  }

  private equalsDefault({ value: fallbackValue, schema }: Fallback, value: unknown, walked: unknown): boolean {
    let fallback: unknown;
    try {
      fallback = fallbackValue();
    } catch {
      return false;
    }
    if (fallback === undefined) return false;
    try {
      const text = canonicalJson(fallback);
      if (canonicalJson(value) === text) return true;
      // The default compared as the identity sees it: its own nested defaults left out too.
      const inner = new Walker(new Map()).walk(schema, fallback, []);
      return inner !== LEFT_OUT && walked !== LEFT_OUT && canonicalJson(walked) === canonicalJson(inner);
    } catch {
      // A value without a canonical form is never equal to a default; the identity refuses it later.
      return false;
    }
  }

  private recordOption(path: (string | number)[], value: unknown): void {
    if (value === undefined || path.length === 0) return;
    let parent: Record<string | number, unknown> = this.options;
    for (const part of path.slice(0, -1)) {
      const next = parent[part];
      parent = (isPlainObject(next) ? next : (parent[part] = {})) as Record<string | number, unknown>;
    }
    parent[path[path.length - 1]!] = value;
  }
}

function defOf(schema: z.ZodType): AnyDef {
  return schema._zod.def as AnyDef;
}

/** The schema whose output a wrapper passes on, or undefined for a non-wrapper. */
function wrapped(def: AnyDef): AnyDef | undefined {
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'nonoptional':
      return defOf(def.innerType);
    case 'lazy':
      return defOf(def.getter());
    case 'pipe':
      // The value is the output of `out`; a transform's output says nothing about the schema.
      return defOf(def.out).type === 'transform' ? undefined : defOf(def.out);
    default:
      return undefined;
  }
}

function discriminatedOption(def: AnyDef, discriminator: unknown): z.ZodType | undefined {
  for (const option of def.options as z.ZodType[]) {
    const values = (option._zod as { propValues?: Record<string, Set<unknown>> }).propValues?.[def.discriminator];
    if (values?.has(discriminator)) return option;
  }
  return undefined;
}

/** A declared default: the value a job receives when the parameter is left out, and the schema it has. */
interface Fallback {
  value: () => unknown;
  schema: z.ZodType;
}

function fallbackOf(def: AnyDef): Fallback {
  // zod 4: a default is an output value; a prefault is an input, parsed by the inner schema.
  return def.type === 'default'
    ? { value: () => def.defaultValue, schema: def.innerType }
    : { value: () => parsedWith(def.innerType, def.defaultValue), schema: def.innerType };
}

/** Defaults declared on a pipe's input side, as the pipe's output schema turns them. */
function pipedFallbacks(def: AnyDef): Fallback[] {
  const fallbacks: Fallback[] = [];
  for (let current: AnyDef | undefined = defOf(def.in); current; current = wrapped(current)) {
    if (current.type === 'default' || current.type === 'prefault') {
      const inner = fallbackOf(current);
      fallbacks.push({ value: () => parsedWith(def.out, inner.value()), schema: def.out });
    }
  }
  return fallbacks;
}

function parsedWith(schema: z.ZodType, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
