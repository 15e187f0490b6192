// `baton run-experiment [YAML_FILE]`: merge the configuration, load the experiment module, run it.
// Everything heavy (the user's module, the scheduler) is imported only after --show is handled.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { stringify } from 'yaml';
import { UserInputError } from '@baton/core';
import type { RunMode } from '@baton/core';
import { loadConfiguration } from '@baton/core';

export interface RunExperimentOptions {
  file?: string;
  workspace?: string;
  workdir?: string;
  configDir?: string;
  env: Record<string, string>;
  runMode: RunMode;
  config: string[];
  preYaml: string[];
  postYaml: string[];
  show?: boolean;
  host?: string;
  port?: number;
  kill?: boolean;
}

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

export function registerRunExperimentCommand(program: Command): void {
  program
    .command('run-experiment')
    .description('run an experiment from its YAML configuration')
    .argument('[yaml-file]', 'configuration file (may name a `parent` file to merge first)')
    .option('--file <path>', 'module whose default export is defineExperiment(...) (default: the configuration\'s "file", next to the YAML file)')
    .option('--workspace <id>', 'workspace id from the settings file')
    .option('--workdir <dir>', 'workspace directory (wins over --workspace)')
    .option('--config-dir <dir>', 'look for the settings file in this directory only')
    .option('--env <NAME VALUE>', 'environment variable for the jobs (repeatable): --env NAME VALUE', collectEnv, {})
    .addOption(new Option('--run-mode <mode>', 'normal runs jobs; generate writes them without running; dry-run only prints').choices(['normal', 'generate', 'dry-run']).default('normal'))
    .option('-c, --config <key.path=value>', 'override a configuration value, read as YAML (repeatable)', collect, [])
    .option('--pre-yaml <file>', 'YAML file merged before the configuration file (repeatable)', collect, [])
    .option('--post-yaml <file>', 'YAML file merged after the configuration file (repeatable)', collect, [])
    .option('--show', 'print the merged configuration and exit')
    .option('--host <host>', 'host the experiment monitor listens on', parseHost)
    .option('--port <n>', 'port of the experiment monitor (negative: no monitor)', parsePort)
    .option('--kill', 'on Ctrl-C, also cancel the running jobs')
    .action(async (yamlFile: string | undefined, options: RunExperimentOptions) => {
      const loaded = await loadConfiguration({ file: yamlFile, preYaml: options.preYaml, postYaml: options.postYaml, overrides: options.config });
      if (options.show) {
        process.stdout.write(stringify(loaded.configuration));
        return;
      }
      if (yamlFile === undefined && options.file === undefined) {
        throw new UserInputError('No experiment to run: give a YAML configuration file or --file', {
          where: 'baton run-experiment',
          hint: 'run `baton run-experiment full.yaml` (its `file` key names the module) or `baton run-experiment --file experiment.ts -c id=my-xp`',
        });
      }
      const modulePath = findExperimentModule({ file: options.file, configuration: loaded.configuration, directory: loaded.directory, yamlFile });
      const { executeExperiment } = await import('./executeExperiment.ts');
      process.exitCode = await executeExperiment({ modulePath, configuration: loaded.configuration, source: loaded.files.join(', ') || undefined, options });
    });
}

/**
 * Commander options take one value; `--env NAME VALUE` takes two. Rewrites each such pair to
 * `--env NAME=VALUE` before parsing (a value already written `NAME=VALUE` is left alone).
 */
export function joinEnvPairs(argv: readonly string[]): string[] {
  const result: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--') {
      result.push(...argv.slice(index));
      break;
    }
    const name = argv[index + 1];
    const value = argv[index + 2];
    if (argument === '--env' && name !== undefined && value !== undefined && ENV_NAME.test(name)) {
      result.push(argument, `${name}=${value}`);
      index += 2;
    } else {
      result.push(argument);
    }
  }
  return result;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The run module: --file (relative to the working directory) or the configuration's `file` (relative to the YAML file). */
function findExperimentModule(options: { file?: string; configuration: Record<string, unknown>; directory: string; yamlFile?: string }): string {
  const { configuration } = options;
  const named = options.file ?? configuration.file ?? 'experiment';
  const where = options.file !== undefined ? '--file' : configuration.file !== undefined ? `"file" in ${options.yamlFile}` : `default "file: experiment" of ${options.yamlFile}`;
  if (typeof named !== 'string' || named === '') {
    throw new UserInputError(`"file" must be a path to the experiment module, got ${JSON.stringify(named)}`, {
      where,
      hint: 'write e.g. file: experiment (for experiment.ts next to the YAML file)',
    });
  }
  const base = options.file !== undefined ? resolve(named) : resolve(options.directory, named);
  const candidates = [base, ...MODULE_EXTENSIONS.map((extension) => `${base}${extension}`)];
  const found = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
  if (found) return found;
  throw new UserInputError(`Cannot find the experiment module ${base} (tried ${['', ...MODULE_EXTENSIONS].map((e) => e || 'as is').join(', ')})`, {
    where,
    hint: options.file !== undefined ? 'check the --file path (relative to the current directory)' : 'set `file:` in the YAML file (relative to it) or pass --file',
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const equals = value.indexOf('=');
  const name = equals > 0 ? value.slice(0, equals) : '';
  if (!ENV_NAME.test(name)) {
    throw new InvalidArgumentError('expected --env NAME VALUE (or --env NAME=VALUE), NAME made of letters, digits and _.');
  }
  return { ...previous, [name]: value.slice(equals + 1) };
}

function parsePort(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('expected an integer (0-65535, or negative for no monitor).');
  const port = Number(value);
  if (port > 65535) throw new InvalidArgumentError('a port is at most 65535 (or negative for no monitor).');
  return port;
}

function parseHost(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a host name or address, e.g. localhost or 0.0.0.0.');
  return value.trim();
}
