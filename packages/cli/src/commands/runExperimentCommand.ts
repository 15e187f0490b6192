// `baton run-experiment [YAML_FILE]`: its options. The command itself (runExperiment.ts) is
// imported when it runs, so that `baton --help` and other commands do not load it.
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { RunMode } from '@baton/core';
import { addHelpExamples } from '../help.ts';

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
  /** Lines of each failed job's stderr in the summary (0: none). */
  stderrLines: number;
}

/** What commander hands over: a repeatable option given no time is undefined. */
type ParsedRunExperimentOptions = Omit<RunExperimentOptions, 'env' | 'config' | 'preYaml' | 'postYaml'> & Partial<Pick<RunExperimentOptions, 'env' | 'config' | 'preYaml' | 'postYaml'>>;

export function registerRunExperimentCommand(program: Command): void {
  const command = program
    .command('run-experiment')
    .description('run an experiment from its YAML configuration')
    .argument('[yaml-file]', 'configuration file (may name a `parent` file to merge first)')
    .option('--file <path>', 'module whose default export is defineExperiment(...) (default: the configuration\'s "file", next to the YAML file)')
    .option('--workspace <id>', 'workspace id from the settings file')
    .option('--workdir <dir>', 'workspace directory (wins over --workspace)')
    .option('--config-dir <dir>', 'look for the settings file in this directory only')
    .option('--env <NAME VALUE>', 'environment variable for the jobs (repeatable): --env NAME VALUE', collectEnv)
    .addOption(new Option('--run-mode <mode>', 'normal runs jobs; generate writes them without running; dry-run only prints').choices(['normal', 'generate', 'dry-run']).default('normal'))
    .option('-c, --config <key.path=value>', 'override a configuration value, read as YAML (repeatable)', collect)
    .option('--pre-yaml <file>', 'YAML file merged before the configuration file (repeatable)', collect)
    .option('--post-yaml <file>', 'YAML file merged after the configuration file (repeatable)', collect)
    .option('--show', 'print the merged configuration and exit')
    .option('--host <host>', 'serve the web monitor of this run on this address (default 127.0.0.1: this machine only)', parseHost)
    .option('--port <n>', 'serve the web monitor of this run on this port (0: any free port; negative: no monitor)', parsePort)
    .option('--kill', 'on Ctrl-C, also cancel the running jobs')
    .option('--stderr-lines <n>', "lines of each failed job's stderr shown in the summary (0: none)", parseLineCount, 10)
    .action(async (yamlFile: string | undefined, parsed: ParsedRunExperimentOptions) => {
      const { runExperiment } = await import('./runExperiment.ts');
      // Repeatable options have no default in commander, so that help does not print `(default: [])`.
      const { env = {}, config = [], preYaml = [], postYaml = [] } = parsed;
      await runExperiment({ yamlFile, options: { ...parsed, env, config, preYaml, postYaml } });
    });
  addHelpExamples(command, {
    examples: [
      { command: 'baton run-experiment sweep.yaml', does: 'run the experiment of sweep.yaml (its `file:` names the module)' },
      { command: 'baton run-experiment sweep.yaml -c lr=1e-4 --workspace cluster', does: 'override a value; run in the workspace "cluster"' },
      { command: 'baton run-experiment sweep.yaml --run-mode dry-run', does: 'print what would run, run nothing' },
      { command: 'baton run-experiment --file experiment.ts -c id=try1', does: 'no YAML file: the module and an id' },
      { command: 'baton run-experiment sweep.yaml --port 0', does: 'with a live web monitor on a free port' },
    ],
    docs: 'guide.md#baton-run-experiment-yaml-file',
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

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function collectEnv(value: string, previous: Record<string, string> = {}): Record<string, string> {
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

function parseLineCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a number of lines (0 or more; 0 shows none).');
  return Number(value);
}

function parseHost(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a host name or address, e.g. localhost or 0.0.0.0.');
  return value.trim();
}
