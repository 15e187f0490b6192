// Imports a file of the user's (experiment, task module, settings file, plugin given
// as a path): JavaScript with a plain import(); TypeScript through tsx, registered in
// this thread the first time a TypeScript file is met, so that a process that never
// meets one never loads tsx. Once registered, a plain import() reads TypeScript and
// the user's module shares this process's @baton/core and zod.
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

let tsxRegistered: Promise<void> | undefined;

/** Registers tsx's loader in this thread (once): later imports read TypeScript. */
export function registerTypeScript(): Promise<void> {
  tsxRegistered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return tsxRegistered;
}

/** True when a file or file URL names a TypeScript module. */
export function isTypeScriptFile(pathOrUrl: string): boolean {
  const path = pathOrUrl.startsWith('file:') ? new URL(pathOrUrl).pathname : pathOrUrl;
  return TYPESCRIPT_EXTENSIONS.has(extname(path).toLowerCase());
}

/**
 * Imports a module by absolute path or file URL. A JavaScript module that imports a
 * TypeScript one (an .mjs experiment using tasks.ts) fails the first time with
 * ERR_UNKNOWN_FILE_EXTENSION: tsx is then registered and the import tried again.
 */
export async function importUserModule(pathOrUrl: string): Promise<Record<string, unknown>> {
  const url = pathOrUrl.startsWith('file:') ? pathOrUrl : pathToFileURL(pathOrUrl).href;
  if (isTypeScriptFile(url)) await registerTypeScript();
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || tsxRegistered) throw error;
    await registerTypeScript();
    // A fresh URL: Node keeps the failed attempt of the first one in its module cache.
    return (await import(`${url}${url.includes('?') ? '&' : '?'}typescript`)) as Record<string, unknown>;
  }
}

/** Imports a file by absolute path and returns its default export (unwrapping CommonJS interop). */
export async function importDefault(options: { path: string }): Promise<unknown> {
  const namespace = await importUserModule(options.path);
  let value = namespace.default;
  // A .ts file outside a "type": "module" package is compiled as CommonJS: its
  // `export default` then arrives as `module.exports.default`.
  if (isObject(value) && value.__esModule === true && 'default' in value) value = value.default;
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
