// Where in the user's code a call into Baton came from: the first frame of the V8 call
// stack outside @baton/core's own code (its built bundle or its sources) and outside Node.
// Named in definitions (a task's `definedAt`) and in errors about a call (a submit).
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Position {
  /** A path (a file: URL turned into one, a loader's query dropped). */
  file: string;
  line: number | null;
  column: number | null;
}

/** The code that runs (the module a function task's job imports), and where the user wrote it when a source map says. */
export interface CallerSite extends Position {
  /** The position in the source the user wrote (a TypeScript file run through tsx), when it differs. */
  original?: Position;
}

/** Core's own tests and their fixtures live in its folder (not in its package): they call Baton as users do. */
const OWN_TESTS = /\.test\.[cm]?[jt]s$|[/\\]__fixtures__[/\\]/;

/** Frames kept above the call: Baton's own between the user's call and here are few, but not always under 10. */
const STACK_FRAMES = 50;

export function callerSite(): CallerSite | undefined {
  const previousPrepare = Error.prepareStackTrace;
  const previousLimit = Error.stackTraceLimit;
  try {
    Error.prepareStackTrace = (_error, stack) => stack;
    Error.stackTraceLimit = STACK_FRAMES;
    const stack = new Error().stack as unknown as NodeJS.CallSite[];
    const own = corePackageDir(stack[0]?.getFileName());
    for (const site of stack) {
      const name = site.getFileName();
      if (!name || name.startsWith('node:')) continue;
      const withoutQuery = name.replace(/\?.*$/, '');
      const file = withoutQuery.startsWith('file:') ? fileURLToPath(withoutQuery) : withoutQuery;
      if (own !== undefined && file.startsWith(own) && !OWN_TESTS.test(file)) continue;
      const running: Position = { file, line: site.getLineNumber(), column: site.getColumnNumber() };
      const original = originalPosition(name, running);
      return original ? { ...running, original } : running;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = previousPrepare;
    Error.stackTraceLimit = previousLimit;
  }
}

/**
 * The position in the source the user wrote: a TypeScript file runs as the JavaScript
 * tsx made of it, and the stack gives positions in that. With source maps on (tsx turns
 * them on), Node keeps each file's map. Undefined without one.
 */
function originalPosition(name: string, site: Position): Position | undefined {
  if (!process.sourceMapsEnabled || site.line === null || site.column === null) return undefined;
  const { findSourceMap } = process.getBuiltinModule('node:module') as typeof import('node:module');
  const entry = findSourceMap(name)?.findEntry(site.line - 1, site.column - 1);
  if (!entry || !('originalLine' in entry)) return undefined;
  const source = entry.originalSource.replace(/\?.*$/, '');
  return { file: source.startsWith('file:') ? fileURLToPath(source) : site.file, line: entry.originalLine + 1, column: entry.originalColumn + 1 };
}

/** `file:line:column` of a site, as messages write it: where the user wrote it. */
export function formatSite(site: CallerSite): string {
  const { file, line, column } = site.original ?? site;
  return `${file}:${line ?? '?'}:${column ?? '?'}`;
}

let coreDir: string | undefined;

/** The folder of the package this module is part of (ending with a separator), found once from its own stack frame. */
function corePackageDir(selfFrame: string | null | undefined): string | undefined {
  if (coreDir !== undefined || !selfFrame) return coreDir;
  const self = selfFrame.replace(/\?.*$/, '');
  for (let dir = dirname(self.startsWith('file:') ? fileURLToPath(self) : self); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return (coreDir = dir.endsWith(sep) ? dir : `${dir}${sep}`);
    if (dirname(dir) === dir) return undefined;
  }
}
