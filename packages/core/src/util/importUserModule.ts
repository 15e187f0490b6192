// Imports a TS or JS file (a settings file, a plugin) through tsx, so TypeScript
// works on Node 20 without a build step and without the `typescript` package.
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

/** Imports a file by absolute path and returns its default export (unwrapping CommonJS interop). */
export async function importDefault(options: { path: string }): Promise<unknown> {
  const namespace = await importTypeScriptAware(pathToFileURL(options.path).href);
  let value = namespace.default;
  // A .ts file outside a "type": "module" package is compiled as CommonJS: its
  // `export default` then arrives as `module.exports.default`.
  if (isObject(value) && value.__esModule === true && 'default' in value) value = value.default;
  return value;
}

/**
 * A plain import() when the process already loads TypeScript (the baton CLI and
 * `node --import tsx` register tsx): the plugin then shares this process's
 * @baton/core and zod. tsImport otherwise, which loads its own copies (~0.5 s).
 */
async function importTypeScriptAware(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    return (await tsImport(url, { parentURL: import.meta.url })) as Record<string, unknown>;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
