// `baton completion bash|zsh|fish`: prints the completion script of a shell; the hidden
// `baton __complete <shell> -- <words>` answers the script at each <TAB>. What they do is in
// completion/, imported when they run.
import type { Command } from 'commander';
import { Argument } from 'commander';
import { addHelpExamples } from '../help.ts';

export function registerCompletionCommand(program: Command): void {
  const completion = program
    .command('completion')
    .description('print the shell completion script (commands, options, workspace ids, job names) for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('../completion/shellScripts.ts');
      process.stdout.write(completionScript(shell));
    });
  addHelpExamples(completion, {
    examples: [
      { command: 'source <(baton completion bash)', does: 'in ~/.bashrc' },
      { command: 'source <(baton completion zsh)', does: 'in ~/.zshrc, after compinit' },
      { command: 'baton completion fish > ~/.config/fish/completions/baton.fish', does: 'once, for fish' },
    ],
    docs: 'guide.md#shell-completion',
  });

  // What the scripts call: the words go after `--`, so that none is taken for an option of baton's.
  program
    .command('__complete', { hidden: true })
    .description('completion candidates for a command line (used by the completion scripts)')
    .argument('<shell>')
    .argument('[words...]')
    .helpOption(false)
    .allowUnknownOption()
    .action(async (shell: string, words: string[]) => (await import('../completion/completeCommand.ts')).completeCommand({ program, shell, words }));
}
