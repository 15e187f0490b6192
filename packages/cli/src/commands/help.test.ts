// Help through the real CLI: every command's --help ends with examples and a docs page that
// exists (its #anchor a heading of that page); `baton help` reaches commands at any depth.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProgram } from '../program.ts';
import { runBaton } from '../testing/runBaton.ts';

const REPOSITORY = fileURLToPath(new URL('../../../../', import.meta.url));

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-cli-help-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every visible command, as the words that name it (`[]` for baton itself). */
function commandPaths(command: Command, path: string[] = []): string[][] {
  const subcommands = command.createHelp().visibleCommands(command).filter((sub) => sub.name() !== 'help' || path.length === 0);
  return [path, ...subcommands.flatMap((sub) => commandPaths(sub, [...path, sub.name()]))];
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

describe('baton --help', () => {
  it.each(commandPaths(createProgram()).map((path) => [path.join(' ') || '(baton)', path]))('%s: examples, a docs page that exists, no empty defaults', async (_name, path) => {
    const result = await runBaton([...(path as string[]), '--help'], { cwd: dir });
    expect(result.code).toBe(0);
    // A repeatable option given no time is no value to show.
    expect(result.stdout).not.toMatch(/\(default: (\[\]|\{\})\)/);
    const examples = result.stdout.split('\nExamples:\n')[1];
    expect(examples, result.stdout).toBeDefined();
    expect(examples!.split('\n').filter((line) => line.startsWith('  $ baton ') || line.startsWith('  $ source <(baton ')).length).toBeGreaterThanOrEqual(1);
    const docs = /\nDocs: docs\/([\w.-]+\.md)(?:#([\w-]+))? /.exec(result.stdout);
    expect(docs, result.stdout).not.toBeNull();
    const page = join(REPOSITORY, 'docs', docs![1]!);
    expect(existsSync(page), page).toBe(true);
    if (docs![2]) {
      const anchors = readFileSync(page, 'utf8')
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => anchorOf(line.replace(/^#+ /, '')));
      expect(anchors).toContain(docs![2]);
    }
  });
});

describe('baton help', () => {
  it('prints the help of a command at any depth, the same as its --help', async () => {
    const viaHelp = await runBaton(['help', 'jobs', 'list'], { cwd: dir });
    const viaOption = await runBaton(['jobs', 'list', '--help'], { cwd: dir });
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain('Usage: baton jobs list');
    expect(viaHelp.stdout).toBe(viaOption.stdout);
    expect((await runBaton(['help'], { cwd: dir })).stdout).toContain('Usage: baton [options] [command]');
  });

  it('exits 2 on an unknown command, with a did-you-mean and the commands there are', async () => {
    const top = await runBaton(['help', 'jbos'], { cwd: dir });
    expect(top.code).toBe(2);
    expect(top.stderr).toContain('No command "jbos" in baton (did you mean "jobs"?)');
    const nested = await runBaton(['help', 'jobs', 'lsit'], { cwd: dir });
    expect(nested.code).toBe(2);
    expect(nested.stderr).toContain('No command "lsit" in baton jobs (did you mean "list"?)');
    expect(nested.stderr).toContain('list, log, kill, clean');
    expect(nested.stdout).toBe('');
  });
});
