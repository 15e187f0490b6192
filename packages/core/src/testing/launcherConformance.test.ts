// The conformance kit itself: run in a Vitest of its own against a small launcher
// that keeps the contract (every test passes) and against the same launcher with one
// fault each (the test about that fault fails, saying what went wrong).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPOSITORY = fileURLToPath(new URL('../../../../', import.meta.url));
const VITEST = join(REPOSITORY, 'node_modules', 'vitest', 'vitest.mjs');
const CONFIG = fileURLToPath(new URL('./__fixtures__/vitest.kit.config.ts', import.meta.url));

interface Outcome {
  suite: string;
  test: string;
  status: string;
  failure: string;
}

interface JsonReport {
  testResults: { assertionResults: { ancestorTitles: string[]; title: string; status: string; failureMessages: string[] }[] }[];
}

let folder = '';
let outcomes: Outcome[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'baton-kit-'));
  const report = join(folder, 'report.json');
  // The child is a Vitest of its own, not a worker of this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'CI'));
  const child = spawn(process.execPath, [VITEST, 'run', '--config', CONFIG, '--reporter=json', `--outputFile=${report}`], { cwd: REPOSITORY, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  await new Promise((resolve) => child.on('exit', resolve));
  const text = await readFile(report, 'utf8').catch(() => {
    throw new Error(`the kit's own Vitest wrote no report:\n${output}`);
  });
  outcomes = (JSON.parse(text) as JsonReport).testResults.flatMap((file) =>
    file.assertionResults.map((result) => ({ suite: result.ancestorTitles[0] ?? '', test: result.title, status: result.status, failure: result.failureMessages.join('\n') })),
  );
}, 240_000);

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

function failed(suite: string): Outcome[] {
  return outcomes.filter((outcome) => outcome.suite === suite && outcome.status !== 'passed');
}

function failure(suite: string, title: string): string | undefined {
  return failed(suite).find((outcome) => outcome.test.startsWith(title))?.failure;
}

describe('launcherConformance', () => {
  it('passes every test of a launcher that keeps the contract', () => {
    const passed = outcomes.filter((outcome) => outcome.suite === 'none');
    expect(passed.map((outcome) => outcome.test)).toHaveLength(8);
    expect(failed('none').map(({ test, failure }) => ({ test, failure }))).toEqual([]);
  });

  it('fails a launcher that answers a status call out of order', () => {
    expect(failure('reversed', 'answers many handles in one status call, in order')).toContain('one call about a running job, then two finished ones');
  });

  it('fails a launcher that says running of a job that never existed', () => {
    expect(failure('runningWhenUnknown', 'answers about handles of jobs that never existed')).toContain('a job that never existed, handed over 60 s ago');
  });

  it('fails a launcher whose cancel leaves the job running', () => {
    expect(failure('noCancel', 'cancel ends a running job')).toContain('timed out after 4000 ms waiting for the cancelled job to end');
    expect(failure('noCancel', 're-attach')).toContain('the job the fresh launcher cancelled to end');
  });

  it('fails a launcher that cannot follow a job from its process.json in a fresh instance', () => {
    expect(failure('forgetful', 're-attach')).toContain('answered "unknown"');
  });

  it('fails a launcher kind whose settings schema lets an unknown key through', () => {
    expect(failure('looseSettings', 'its settings schema rejects an unknown key')).toContain('a block with the unknown key "tagg"');
  });

  it('fails each faulty launcher on the tests about its fault only', () => {
    expect(failed('looseSettings').map((outcome) => outcome.test)).toEqual([expect.stringMatching(/^its settings schema/)]);
    expect(failed('forgetful').map((outcome) => outcome.test)).toEqual([expect.stringMatching(/^re-attach/), expect.stringMatching(/^answers about handles of jobs that never existed/)]);
  });
});
