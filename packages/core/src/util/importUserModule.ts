// Imports a file of the user's (experiment, task module, settings file, plugin given
// as a path): JavaScript with a plain import(); TypeScript through tsx, registered in
// this thread the first time a TypeScript file is met, so that a process that never
// meets one never loads tsx. Once registered, a plain import() reads TypeScript and
// the user's module shares this process's @baton/core and zod.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserInputError } from '../errors.ts';

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
  const namespace = await importOnce(url);
  loaded.set(url, namespace);
  return namespace;
}

/** The modules importUserModule imported, by file URL: what each exports (see userModuleExports). */
const loaded = new Map<string, Record<string, unknown>>();

/** What a module imported through importUserModule (an experiment module) exports; undefined for one it did not import. */
export function userModuleExports(url: string): Record<string, unknown> | undefined {
  return loaded.get(url);
}

async function importOnce(url: string): Promise<Record<string, unknown>> {
  if (isTypeScriptFile(url)) await registerTypeScript();
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || tsxRegistered) throw commonJsRefusal(error, url) ?? error;
    await registerTypeScript();
    // A fresh URL: Node keeps the failed attempt of the first one in its module cache.
    return (await import(`${url}${url.includes('?') ? '&' : '?'}typescript`).catch((retryError: unknown) => {
      throw commonJsRefusal(retryError, url) ?? retryError;
    })) as Record<string, unknown>;
  }
}

/**
 * A module compiled as CommonJS (a .ts file under a package.json without "type": "module")
 * that requires a Baton package fails with Node's "No "exports" main defined": Baton's
 * packages are ES modules only. Said as what to change, or undefined for any other error.
 */
function commonJsRefusal(error: unknown, url: string): UserInputError | undefined {
  const { code, message } = error as NodeJS.ErrnoException;
  if ((code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED' && code !== 'ERR_REQUIRE_ESM') || !/[/\\]@baton[/\\]/.test(String(message))) return undefined;
  const file = fileURLToPath(url.replace(/\?.*$/, ''));
  const manifest = nearestPackageJson(dirname(file));
  const where = manifest === undefined ? 'no package.json above it' : `the nearest package.json, ${manifest.path}, ${manifest.type === undefined ? 'has no "type"' : `says "type": "${manifest.type}"`}`;
  return new UserInputError(`${file} (or a module it imports) is loaded as CommonJS (${where}), and Baton's packages are ES modules only`, {
    where: file,
    hint: manifest === undefined ? 'add a package.json with "type": "module" to the project, or name the file .mts' : `set "type": "module" in ${manifest.path}, or name the file .mts`,
    cause: error,
  });
}

function nearestPackageJson(from: string): { path: string; type: string | undefined } | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      try {
        const type = (JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown }).type;
        return { path, type: typeof type === 'string' ? type : undefined };
      } catch {
        return { path, type: undefined };
      }
    }
    if (dirname(dir) === dir) return undefined;
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
