import { describe, expect, it } from 'vitest';
import { createProgram } from '../program.ts';
import { completeWords, type DynamicValues, type LineContext } from './completeWords.ts';

/** Values as a workspace would give them; remembers the context each was asked with. */
function fakeValues() {
  const asked: LineContext[] = [];
  const values: DynamicValues = {
    workspaces: async (context) => (asked.push(context), [{ value: 'main', description: '/ws' }, { value: 'scratch' }]),
    jobs: async (context) => (asked.push(context), [{ value: 'train/3fa2c1d0e4b5' }, { value: 'eval/9b8e7f6a5d4c' }]),
    tasks: async () => [{ value: 'train' }, { value: 'eval' }],
    experiments: async () => [{ value: 'sweep' }],
    runs: async (context) => (context.experiment === 'sweep' ? [{ value: 'latest' }, { value: '20261201T093000-1' }] : []),
  };
  return { values, asked };
}

async function complete(words: string[], splitAtEquals = false) {
  const { values, asked } = fakeValues();
  const result = await completeWords({ program: createProgram(), words, values, splitAtEquals });
  return { ...result, values: result.candidates.map((candidate) => candidate.value), asked };
}

describe('completeWords', () => {
  it('offers subcommands, then options, then the values of an option', async () => {
    expect((await complete(['jobs', 'k'])).values).toEqual(['kill']);
    expect((await complete(['jobs', 'list', '--w'])).values).toEqual(['--wide', '--workspace', '--workdir']);
    expect((await complete(['run-experiment', '--run-mode', 'd'])).values).toEqual(['dry-run']);
    expect((await complete(['report', '--experiment', 'sweep', '--run', ''])).values).toEqual(['latest', '20261201T093000-1']);
    expect((await complete(['jobs', 'list', '--task', ''])).values).toEqual(['train', 'eval']);
  });

  it('asks for values in the workspace the line names', async () => {
    const { values, asked } = await complete(['jobs', 'kill', '--workdir', '/data/ws', '--config-dir', 'conf', 'train/3fa2c1d0e4b5', 'e']);
    expect(values).toEqual(['eval/9b8e7f6a5d4c']);
    expect(asked).toEqual([{ workdir: '/data/ws', configDir: 'conf' }]);
    expect((await complete(['jobs', 'log', '--workspace=scratch', ''])).asked).toEqual([{ workspace: 'scratch' }]);
  });

  it('lets the shell complete file names where a file goes', async () => {
    expect(await complete(['run-experiment', ''])).toMatchObject({ files: true });
    expect(await complete(['run-experiment', '--file', 'exp'])).toMatchObject({ files: true });
    // `--env NAME VALUE`: two words, then the YAML file.
    expect(await complete(['run-experiment', '--env', 'A', '1', ''])).toMatchObject({ files: true });
    expect(await complete(['run-experiment', '--env', 'A', ''])).toMatchObject({ files: false, values: [] });
  });

  it('completes `--option=value` whole for zsh and fish, and the piece after `=` for bash', async () => {
    expect((await complete(['jobs', 'list', '--workspace=s'])).values).toEqual(['--workspace=scratch']);
    expect((await complete(['jobs', 'list', '--workspace', '=', 's'], true)).values).toEqual(['scratch']);
    expect((await complete(['jobs', 'list', '--workspace', '='], true)).values).toEqual(['main', 'scratch']);
  });

  it('completes the commands `baton help` takes, at any depth, and never the hidden one', async () => {
    expect((await complete(['help', ''])).values).toEqual(expect.arrayContaining(['jobs', 'run-experiment', 'completion']));
    expect((await complete(['help', 'jobs', ''])).values).toEqual(['list', 'log', 'kill', 'clean']);
    expect((await complete(['__'])).values).toEqual([]);
    expect((await complete([])).values).not.toContain('__complete');
  });
});
