// A task's parameters travel to its job through params.json (see paramValues.ts).
// A schema whose output cannot make that trip is refused when the task is
// defined, with the reason, rather than failing in the job.
import type { z } from 'zod';

/** Types whose values survive the trip (plain JSON, bigint, Date, Set, Map); the rest is listed in UNSUPPORTED. */
const UNSUPPORTED: Record<string, string> = {
  symbol: 'a symbol has no written form',
  function: 'a function cannot be written to params.json',
  promise: 'a promise cannot be written to params.json; resolve it before submitting',
  file: 'a File cannot be written to params.json; pass its path',
};

/** Classes z.instanceof() may name: their instances make the trip. */
const TRAVELLING_CLASSES: readonly unknown[] = [Date, Set, Map, Array, Object];

/** The problems of a params schema, as `path: reason` (empty when it can make the trip). */
export function paramsSchemaProblems(schema: z.ZodType): string[] {
  const problems: string[] = [];
  visit(schema, 'params', problems, new Set());
  return problems;
}

type AnyDef = Record<string, any> & { type: string };

function visit(schema: z.ZodType, path: string, problems: string[], seen: Set<z.ZodType>): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = schema._zod.def as AnyDef;
  const reason = UNSUPPORTED[def.type];
  if (reason) {
    problems.push(`${path}: ${reason}`);
    return;
  }
  const Class = (schema._zod as { bag?: { Class?: { name?: string } } }).bag?.Class;
  if (def.type === 'custom' && Class && !TRAVELLING_CLASSES.includes(Class)) {
    problems.push(`${path}: an instance of ${Class.name ?? 'a class'} cannot be written to params.json; pass plain data and build the object inside the task`);
    return;
  }
  switch (def.type) {
    case 'object':
      for (const [key, item] of Object.entries(def.shape as Record<string, z.ZodType>)) visit(item, `${path}.${key}`, problems, seen);
      if (def.catchall) visit(def.catchall, `${path}.*`, problems, seen);
      return;
    case 'array':
      return visit(def.element, `${path}[]`, problems, seen);
    case 'set':
      return visit(def.valueType, `${path}[member]`, problems, seen);
    case 'tuple':
      (def.items as z.ZodType[]).forEach((item, i) => visit(item, `${path}[${i}]`, problems, seen));
      if (def.rest) visit(def.rest, `${path}[]`, problems, seen);
      return;
    case 'record':
    case 'map':
      visit(def.keyType, `${path}[key]`, problems, seen);
      return visit(def.valueType, `${path}[value]`, problems, seen);
    case 'union':
      (def.options as z.ZodType[]).forEach((option) => visit(option, path, problems, seen));
      return;
    case 'intersection':
      visit(def.left, path, problems, seen);
      return visit(def.right, path, problems, seen);
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'nonoptional':
      return visit(def.innerType, path, problems, seen);
    case 'lazy':
      return visit(def.getter(), path, problems, seen);
    case 'pipe':
      // Only the output travels (z.instanceof(URL).transform((u) => u.href) is fine);
      // a transform's output is checked on the value at submit.
      return visit(def.out, path, problems, seen);
    default:
      return;
  }
}
