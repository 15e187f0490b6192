// Reads an experiment's YAML configuration: --pre-yaml files, the main file with its `parent`
// chain, --post-yaml files and `-c key.path=value` overrides, merged in that order.
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { lazyModule } from '../util/lazyModule.ts';
import { describeYamlSyntaxError } from '../util/yamlSyntaxError.ts';
import { UserInputError } from '../errors.ts';

const yaml = lazyModule<typeof import('yaml')>('yaml', { vendored: true });

export interface LoadConfigurationOptions {
  /** The main YAML file; without one, the configuration comes from the other files and overrides. */
  file?: string;
  /** Files merged before the main file (lowest precedence). */
  preYaml?: readonly string[];
  /** Files merged after the main file. */
  postYaml?: readonly string[];
  /** `key.path=value` overrides, applied last; values are YAML (`1e-4`, `[a, b]`, `{x: 1}`). */
  overrides?: readonly string[];
}

export interface LoadedConfiguration {
  configuration: Record<string, unknown>;
  /** Absolute paths of every file read, in merge order. */
  files: string[];
  /** Absolute directory of the main YAML file (relative paths in it, like `file`, start here); the working directory without one. */
  directory: string;
}

export type ConfigurationObject = Record<string, unknown>;

export async function loadConfiguration(options: LoadConfigurationOptions): Promise<LoadedConfiguration> {
  const main = options.file === undefined ? undefined : resolve(options.file);
  const files: string[] = [];
  let configuration: ConfigurationObject = {};
  const layers = [...(options.preYaml ?? []), ...(main === undefined ? [] : [main]), ...(options.postYaml ?? [])].map((f) => resolve(f));
  for (const file of layers) {
    for (const layer of await readWithParents({ file, chain: [] })) {
      files.push(layer.file);
      configuration = mergeConfigurations(configuration, layer.values);
    }
  }
  delete configuration.parent;
  for (const override of options.overrides ?? []) applyOverride({ configuration, override });
  return { configuration, files, directory: main === undefined ? process.cwd() : dirname(main) };
}

/** Merges `overlay` onto `base`: objects merge key by key, arrays and scalars replace. Inputs are not modified. */
/** A configuration as YAML text (what `baton run-experiment --show` prints). */
export function configurationToYaml(configuration: ConfigurationObject): string {
  return yaml().stringify(configuration);
}

export function mergeConfigurations(base: ConfigurationObject, overlay: ConfigurationObject): ConfigurationObject {
  const result: ConfigurationObject = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const previous = result[key];
    result[key] = isPlainObject(previous) && isPlainObject(value) ? mergeConfigurations(previous, value) : value;
  }
  return result;
}

/** Sets one `key.path=value` override in place; the value is parsed as YAML. */
export function applyOverride(options: { configuration: ConfigurationObject; override: string }): void {
  const { configuration, override } = options;
  const equals = override.indexOf('=');
  if (equals <= 0) {
    throw new UserInputError(`Malformed configuration override "${override}": expected key.path=value`, {
      where: `-c ${override}`,
      hint: 'write it as -c key.path=value, e.g. -c learning_rate=1e-4 or -c tags=[a,b]',
    });
  }
  const path = override.slice(0, equals).trim();
  const keys = path.split('.');
  if (keys.some((key) => key === '')) {
    throw new UserInputError(`Malformed key path "${path}" in configuration override`, {
      where: `-c ${override}`,
      hint: 'key paths are names separated by single dots, e.g. -c model.layers=4',
    });
  }
  const value = parseOverrideValue({ text: override.slice(equals + 1), override });
  let target: ConfigurationObject = configuration;
  for (const [index, key] of keys.slice(0, -1).entries()) {
    const next = target[key];
    if (next === undefined || next === null) {
      target[key] = {};
    } else if (!isPlainObject(next)) {
      const prefix = keys.slice(0, index + 1).join('.');
      throw new UserInputError(`Cannot set "${path}": "${prefix}" is ${describeValue(next)}, not a mapping`, {
        where: `-c ${override}`,
        hint: `set "${prefix}" itself (e.g. -c ${prefix}=...) or fix the key path`,
      });
    }
    target = target[key] as ConfigurationObject;
  }
  target[keys.at(-1)!] = value;
}

// ---------------------------------------------------------------------------

interface Layer {
  file: string;
  values: ConfigurationObject;
}

/** The file's `parent` chain, oldest ancestor first, then the file itself. */
async function readWithParents(options: { file: string; chain: string[] }): Promise<Layer[]> {
  const { file, chain } = options;
  if (chain.includes(file)) {
    const base = dirname(chain[0] ?? file);
    const names = [...chain, file].map((f) => relative(base, f) || f);
    throw new UserInputError(`Cycle in YAML "parent" chain: ${names.join(' → ')}`, {
      where: chain.at(-1),
      hint: 'remove the "parent" key from one of these files so that the chain ends',
    });
  }
  const values = await readYamlMapping({ file, namedBy: chain.at(-1) });
  const parent = values.parent;
  if (parent === undefined || parent === null) return [{ file, values }];
  if (typeof parent !== 'string' || parent.trim() === '') {
    throw new UserInputError(`"parent" must be a relative path to a YAML file, got ${describeValue(parent)}`, {
      where: `${file}: parent`,
      hint: 'write e.g. parent: ../base.yaml (relative to this file)',
    });
  }
  const ancestors = await readWithParents({ file: resolve(dirname(file), parent), chain: [...chain, file] });
  return [...ancestors, { file, values }];
}

async function readYamlMapping(options: { file: string; namedBy?: string }): Promise<ConfigurationObject> {
  const { file, namedBy } = options;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserInputError(
      code === 'ENOENT' ? `Configuration file not found: ${file}` : `Cannot read configuration file ${file}: ${(error as Error).message}`,
      {
        where: namedBy ? `"parent" in ${namedBy}` : file,
        hint: namedBy ? 'parent paths are relative to the file that names them' : 'check the path (relative paths start at the current directory)',
        cause: error,
      },
    );
  }
  const document = yaml().parseDocument(text);
  const [error] = document.errors;
  if (error) {
    const { line, col, message } = describeYamlSyntaxError({ error, text });
    const at = line === undefined ? file : `${file}:${line}:${col}`;
    throw new UserInputError(`Malformed YAML in ${at}: ${message}`, {
      where: at,
      hint: 'fix the YAML syntax at that line and column',
    });
  }
  const values: unknown = document.toJS();
  if (values === null || values === undefined) {
    // Most likely the wrong file, or one not saved yet: an empty layer would only lead to a puzzling error later.
    throw new UserInputError(`Empty configuration: ${file} holds no keys (it is empty or has only comments)`, {
      where: namedBy ? `"parent" in ${namedBy}` : file,
      hint: 'write the configuration in it, at least the experiment id (e.g. "id: my-experiment"), or name another file',
    });
  }
  if (!isPlainObject(values)) {
    throw new UserInputError(`The top level of ${file} must be a mapping (key: value lines), got ${describeValue(values)}`, {
      where: file,
      hint: 'write the configuration as keys, e.g. "id: my-experiment"',
    });
  }
  return values;
}

function parseOverrideValue(options: { text: string; override: string }): unknown {
  const document = yaml().parseDocument(options.text);
  const [error] = document.errors;
  if (error) {
    throw new UserInputError(`Malformed value in configuration override "${options.override}": ${describeYamlSyntaxError({ error, text: options.text }).message}`, {
      where: `-c ${options.override}`,
      hint: 'the value is read as YAML: quote strings with special characters, e.g. -c name="a: b"',
    });
  }
  return document.toJS();
}

function isPlainObject(value: unknown): value is ConfigurationObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}
