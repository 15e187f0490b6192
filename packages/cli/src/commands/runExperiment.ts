// `baton run-experiment [YAML_FILE]`: merge the configuration, load the experiment module, run it.
// Everything heavy (the user's module, the scheduler) is imported only after --show is handled.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserInputError, configurationToYaml, loadConfiguration } from '@baton/core';
import type { RunExperimentOptions } from './runExperimentCommand.ts';

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

export async function runExperiment(args: { yamlFile: string | undefined; options: RunExperimentOptions }): Promise<void> {
  const { yamlFile, options } = args;
  const loaded = await loadConfiguration({ file: yamlFile, preYaml: options.preYaml, postYaml: options.postYaml, overrides: options.config });
  if (options.show) {
    process.stdout.write(configurationToYaml(loaded.configuration));
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
}

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
