// Imports a TS or JS file (a settings file, a plugin) through tsx, so TypeScript
// works on Node 20 without a build step and without the `typescript` package.
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

/** Imports a file by absolute path and returns its default export (unwrapping CommonJS interop). */
export async function importDefault(options: { path: string }): Promise<unknown> {
  const namespace = (await tsImport(pathToFileURL(options.path).href, { parentURL: import.meta.url })) as Record<string, unknown>;
  let value = namespace.default;
  // A .ts file outside a "type": "module" package is compiled as CommonJS: its
  // `export default` then arrives as `module.exports.default`.
  if (isObject(value) && value.__esModule === true && 'default' in value) value = value.default;
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
