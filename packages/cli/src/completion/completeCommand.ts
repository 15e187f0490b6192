// `baton __complete <shell> -- <words>`: the candidates for the word being typed, in the
// protocol of shellScripts.ts. It answers within a time budget and never fails: a shell
// completing a word must not print errors or hang (whatever the settings or the network do).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { completeWords, type Completion } from './completeWords.ts';
import { workspaceValues } from './dynamicValues.ts';

/** A remote workspace (SSH) or a slow disk may take longer: completion gives up and offers nothing. */
const BUDGET_MS = 3000;

export async function completeCommand(options: { program: Command; shell: string; words: string[] }): Promise<void> {
  const { program, shell, words } = options;
  const values = workspaceValues();
  const completion = await Promise.race([completeWords({ program, words, values, splitAtEquals: shell === 'bash' }).catch(() => undefined), sleep(BUDGET_MS, undefined)]);
  await write(protocolLines(completion, shell));
  // A remote workspace's connection is closed if it can be at once; whatever is still under
  // way (a connection being made) must not keep the shell waiting.
  await Promise.race([values.close().catch(() => undefined), sleep(500)]);
  process.exit(0);
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
