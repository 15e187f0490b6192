// Help beyond commander's: examples and the docs page at the end of each command's --help,
// and `baton help <command> [<subcommand>...]` for commands at any depth.
import type { Command } from 'commander';

/** Where the guide lives, relative to the root of Baton's repository (no published URL yet). */
const DOCS_ROOT = 'docs/';

export interface HelpExample {
  /** The whole command line, `baton` first. */
  command: string;
  /** What it does, briefly. */
  does: string;
}

/** Adds `Examples:` and `Docs:` to the end of a command's --help; `docs` is a page of docs/, with its #anchor. */
export function addHelpExamples(command: Command, options: { examples: readonly HelpExample[]; docs: string }): Command {
  const width = Math.max(...options.examples.map((example) => example.command.length));
  const examples = options.examples.map((example) => `  $ ${example.command.padEnd(width)}  # ${example.does}`);
  return command.addHelpText('after', `\nExamples:\n${examples.join('\n')}\n\nDocs: ${DOCS_ROOT}${options.docs} (in Baton's repository)\n`);
}

/**
 * Replaces commander's `help [command]` (one level only) with `help [command...]`: `baton help
 * jobs list` prints the help of `jobs list`; an unknown name is an error with a did-you-mean.
 * Call it once every command is registered (the commands keep their own `help` subcommand).
 */
export function registerHelpCommand(program: Command): void {
  program.helpCommand(false);
  const help = program
    .command('help')
    .description('print the help of a command (e.g. baton help jobs list)')
    .argument('[command...]', 'a command and its subcommands')
    .action(async (words: string[]) => {
      let target = program;
      for (const [index, word] of words.entries()) {
        const commands = program.createHelp().visibleCommands(target);
        const next = commands.find((command) => command.name() === word || command.aliases().includes(word));
        if (!next) throw await unknownCommand({ words: words.slice(0, index + 1), names: commands.map((command) => command.name()) });
        target = next;
      }
      target.outputHelp();
    });
  addHelpExamples(help, {
    examples: [
      { command: 'baton help', does: 'the commands of baton' },
      { command: 'baton help jobs list', does: 'the help of `baton jobs list` (same as `baton jobs list --help`)' },
    ],
    docs: 'guide.md#the-baton-command',
  });
}

async function unknownCommand(options: { words: string[]; names: string[] }): Promise<Error> {
  const { UserInputError, didYouMean } = await import('@baton/core');
  const word = options.words.at(-1)!;
  const parent = ['baton', ...options.words.slice(0, -1)].join(' ');
  return new UserInputError(`No command "${word}" in ${parent}${didYouMean(word, options.names)}`, {
    where: 'baton help',
    hint: `commands of ${parent}: ${options.names.filter((name) => name !== 'help').join(', ')}`,
  });
}
