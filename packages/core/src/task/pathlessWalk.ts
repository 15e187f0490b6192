// A walk over a parameter value that builds no paths (a string per key of every job is
// most of a walk's cost): where it meets a value it refuses, it throws REFUSED, and the
// walk runs again with paths, to say where that value is. Refusals are rare.

/** What a walk without paths (`path` undefined) throws at a value it refuses. */
export const REFUSED = Symbol('refused');

/** A walk of `value`; `path` names the value in errors, or is undefined for the fast walk. */
export type ValueWalk<T> = (value: unknown, path: string | undefined) => T;

/** Walks `value` without paths; on a refusal, again from `root` with paths (whose error then says where). */
export function walkNamingRefusals<T>(walk: ValueWalk<T>, value: unknown, root: string): T {
  try {
    return walk(value, undefined);
  } catch (error) {
    if (error !== REFUSED) throw error;
    return walk(value, root);
  }
}
