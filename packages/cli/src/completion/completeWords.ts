// What the shell may put in place of the word being typed on a `baton` command line: walks
// the command line through the program's own commands and options (so completion never lags
// behind them), then offers subcommands, options, choices, or values read from the settings
// and the workspace (workspace ids, job names, experiments) through `DynamicValues`.
import type { Argument, Command, Option } from 'commander';

export interface Candidate {
  value: string;
  description?: string;
}

export interface Completion {
  /** Let the shell complete file names instead (after --file, for a YAML file...). */
  files: boolean;
  candidates: Candidate[];
}

/** The flags seen on the command line that choose a workspace, and --experiment. */
export interface LineContext {
  workspace?: string;
  workdir?: string;
  configDir?: string;
  experiment?: string;
}

/** Values that come from the settings in force and the workspace (dynamicValues.ts). */
export interface DynamicValues {
  workspaces(context: LineContext): Promise<Candidate[]>;
  /** Job names (`task-id/hash-prefix`) starting with `prefix`. */
  jobs(context: LineContext, prefix: string): Promise<Candidate[]>;
  tasks(context: LineContext): Promise<Candidate[]>;
  experiments(context: LineContext): Promise<Candidate[]>;
  runs(context: LineContext): Promise<Candidate[]>;
}

/** Options whose value is two words: `--env NAME VALUE` (joined by main.ts before commander sees them). */
const TWO_WORD_OPTIONS = new Set(['--env']);

type ValueKind = 'files' | 'workspaces' | 'jobs' | 'tasks' | 'experiments' | 'runs' | 'commands' | 'none';

/** What the value of an option (by long name) or an argument (by name) is. */
const VALUE_KINDS: Record<string, ValueKind> = {
  '--workspace': 'workspaces',
  '--workdir': 'files',
  '--config-dir': 'files',
  '--file': 'files',
  '--pre-yaml': 'files',
  '--post-yaml': 'files',
  '--output': 'files',
  '--trace': 'files',
  '--experiment': 'experiments',
  '--task': 'tasks',
  '--run': 'runs',
  'yaml-file': 'files',
  job: 'jobs',
  jobs: 'jobs',
  command: 'commands',
};

/**
 * `words`: the words after `baton` up to the cursor, the last one being typed (empty right
 * after a space). Bash splits words at `=` (`--workspace`, `=`, `ma`): with `splitAtEquals`
 * they are joined back, and the values returned replace only the last piece, as bash wants.
 */
export async function completeWords(options: { program: Command; words: readonly string[]; values: DynamicValues; splitAtEquals?: boolean }): Promise<Completion> {
  const given = options.words.length === 0 ? [''] : options.words;
  if (!options.splitAtEquals) return complete({ ...options, words: given });
  const words = joinEquals(given);
  const completion = await complete({ ...options, words });
  // What bash replaces is the last piece only: `ma` of `--workspace=ma`, nothing after the `=` of `--workspace=`.
  const last = given.at(-1)!;
  const cut = words.at(-1)!.length - (last === '=' ? 0 : last.length);
  return { ...completion, candidates: completion.candidates.map((candidate) => ({ ...candidate, value: candidate.value.slice(cut) })) };
}

async function complete(options: { program: Command; words: readonly string[]; values: DynamicValues }): Promise<Completion> {
  const { program, values, words } = options;
  const current = words.at(-1)!;
  const context: LineContext = {};
  let command = program;
  let pendingOption: Option | undefined;
  /** Words still to be taken as values of `pendingOption` (`--env NAME VALUE` takes two). */
  let pendingValues = 0;
  /** Operands given to the command reached so far. */
  const operands: string[] = [];
  for (const word of words.slice(0, -1)) {
    if (pendingOption) {
      remember(context, pendingOption, word);
      // `--env NAME=VALUE` is one word.
      if (--pendingValues === 0 || word.includes('=')) pendingOption = undefined;
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      const [flag, inline] = splitInline(word);
      const option = findOption(program, command, flag);
      if (option && takesValue(option)) {
        if (inline === undefined) {
          pendingOption = option;
          pendingValues = TWO_WORD_OPTIONS.has(flag) ? 2 : 1;
        } else {
          remember(context, option, inline);
        }
      }
      continue;
    }
    const sub = operands.length === 0 ? findCommand(program, command, word) : undefined;
    if (sub) command = sub;
    else operands.push(word);
  }

  // The value of an option: `--workspace <TAB>` or `--workspace=<TAB>`.
  if (pendingOption) return valuesOf({ option: pendingOption, kind: kindOf(pendingOption), typed: current, prefix: '', context, values, program });
  if (current.startsWith('-')) {
    const [flag, inline] = splitInline(current);
    const option = inline === undefined ? undefined : findOption(program, command, flag);
    if (option) return valuesOf({ option, kind: kindOf(option), typed: inline!, prefix: `${flag}=`, context, values, program });
    return { files: false, candidates: filter(optionCandidates(program, command), current) };
  }

  // A subcommand, or the command's next argument.
  const help = program.createHelp();
  const subcommands = operands.length === 0 ? help.visibleCommands(command).map((sub) => ({ value: sub.name(), description: sub.description() })) : [];
  if (subcommands.length > 0) return { files: false, candidates: filter(subcommands, current) };
  const argument = nextArgument(command, operands.length);
  if (!argument) return { files: false, candidates: [] };
  if (command.name() === 'help' && command.parent === program) return { files: false, candidates: filter(helpTargets(program, operands), current) };
  return valuesOf({ argument, kind: VALUE_KINDS[argument.name()] ?? 'none', typed: current, prefix: '', context, values, program });
}

async function valuesOf(options: {
  option?: Option;
  argument?: Argument;
  kind: ValueKind;
  typed: string;
  /** Put before each value (`--workspace=`), for a value typed in the same word as its option. */
  prefix: string;
  context: LineContext;
  values: DynamicValues;
  program: Command;
}): Promise<Completion> {
  const { kind, typed, context, values } = options;
  const choices = options.option?.argChoices ?? options.argument?.argChoices;
  let candidates: Candidate[];
  if (choices) candidates = choices.map((value) => ({ value }));
  else if (kind === 'files') return { files: true, candidates: [] };
  else if (kind === 'workspaces') candidates = await values.workspaces(context);
  else if (kind === 'jobs') candidates = await values.jobs(context, typed);
  else if (kind === 'tasks') candidates = await values.tasks(context);
  else if (kind === 'experiments') candidates = await values.experiments(context);
  else if (kind === 'runs') candidates = await values.runs(context);
  else candidates = [];
  return { files: false, candidates: filter(candidates, typed).map((candidate) => ({ ...candidate, value: `${options.prefix}${candidate.value}` })) };
}

function kindOf(option: Option): ValueKind {
  return VALUE_KINDS[option.long ?? ''] ?? 'none';
}

function remember(context: LineContext, option: Option, value: string): void {
  if (option.long === '--workspace') context.workspace = value;
  else if (option.long === '--workdir') context.workdir = value;
  else if (option.long === '--config-dir') context.configDir = value;
  else if (option.long === '--experiment') context.experiment = value;
}

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/** `--workspace=main` → [`--workspace`, `main`]; `--debug` → [`--debug`, undefined]. */
function splitInline(word: string): [string, string | undefined] {
  const equals = word.indexOf('=');
  return word.startsWith('--') && equals > 0 ? [word.slice(0, equals), word.slice(equals + 1)] : [word, undefined];
}

/** Bash splits `--workspace=ma` into `--workspace`, `=`, `ma` (and `-c lr=1` into `-c`, `lr`, `=`, `1`): joined back. */
function joinEquals(words: readonly string[]): string[] {
  const joined: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    const previous = joined.at(-1);
    if (word === '=' && previous !== undefined) {
      const value = words[index + 1] ?? '';
      joined[joined.length - 1] = `${previous}=${value}`;
      index++;
    } else {
      joined.push(word);
    }
  }
  return joined;
}

/** The command's own options, then the program's (`--debug`, which every command takes). */
function findOption(program: Command, command: Command, flag: string): Option | undefined {
  for (const owner of command === program ? [program] : [command, program]) {
    const option = owner.options.find((candidate) => candidate.long === flag || candidate.short === flag);
    if (option) return option;
  }
  return undefined;
}

function findCommand(program: Command, command: Command, name: string): Command | undefined {
  return program
    .createHelp()
    .visibleCommands(command)
    .find((sub) => sub.name() === name || sub.aliases().includes(name));
}

function optionCandidates(program: Command, command: Command): Candidate[] {
  const help = program.createHelp();
  const options = [...help.visibleOptions(command), ...(command === program ? [] : help.visibleOptions(program).filter((option) => option.long === '--debug'))];
  return options.flatMap((option) => [option.long, option.short].filter((flag) => flag !== undefined).map((flag) => ({ value: flag, description: option.description })));
}

function nextArgument(command: Command, given: number): Argument | undefined {
  const declared = command.registeredArguments;
  const last = declared.at(-1);
  return declared[given] ?? (last?.variadic ? last : undefined);
}

/** `baton help jobs <TAB>`: the subcommands of what the words before name. */
function helpTargets(program: Command, words: readonly string[]): Candidate[] {
  let target: Command | undefined = program;
  for (const word of words) target = target && findCommand(program, target, word);
  if (!target) return [];
  return program
    .createHelp()
    .visibleCommands(target)
    .filter((sub) => sub.name() !== 'help')
    .map((sub) => ({ value: sub.name(), description: sub.description() }));
}

function filter(candidates: readonly Candidate[], typed: string): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => candidate.value.startsWith(typed) && !seen.has(candidate.value) && seen.add(candidate.value));
}
