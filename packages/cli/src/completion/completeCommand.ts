// `baton __complete <shell> -- <words>`: the candidates for the word being typed, in the
// protocol of shellScripts.ts. It answers within a time budget and never fails: a shell
// completing a word must not print errors or hang (whatever the settings or the network do).
import type { Command } from 'commander';
import { completeWords, type Completion } from './completeWords.ts';
import { workspaceValues } from './dynamicValues.ts';

/** A remote workspace (SSH) or a slow disk may take longer: completion gives up and offers nothing. */
const BUDGET_MS = 3000;

export async function completeCommand(options: { program: Command; shell: string; words: string[] }): Promise<void> {
  const { program, shell, words } = options;
  const values = workspaceValues();
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), BUDGET_MS)));
  const completion = await Promise.race([completeWords({ program, words, values, splitAtEquals: shell === 'bash' }).catch(() => undefined), outOfTime]);
  clearTimeout(timer);
  await write(protocolLines(completion, shell));
  if (completion === undefined) {
    // Whatever is still under way (a connection) must not keep the shell waiting.
    process.exit(0);
  }
  await values.close().catch(() => undefined);
}

/** `files` or `values`, then a value per line (with a tab and its description, but for bash). */
function protocolLines(completion: Completion | undefined, shell: string): string {
  if (!completion) return 'values\n';
  const lines = completion.candidates.map(({ value, description }) => {
    const text = description?.replace(/\s+/g, ' ').trim();
    return shell === 'bash' || !text ? value : `${value}\t${text}`;
  });
  return `${[completion.files ? 'files' : 'values', ...lines].join('\n')}\n`;
}

function write(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
