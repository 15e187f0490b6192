// Typed settings as a user's editor and `tsc` see them: a small project whose node_modules
// link to this repository's packages (their built declaration files, as published), with a
// baton.config.ts, checked by the repository's own `tsc`. Bringing a plugin's types into
// scope (an `import type {} from` or a `/// <reference types>`) types its blocks by `use:`.
// Reads the packages' dist/: build first (`npx tsc -b tsconfig.build.json`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const TSC_TIMEOUT = 180_000;

const LINKED: Record<string, string> = {
  '@baton/core': 'packages/core',
  '@baton/launcher-local': 'plugins/launcher-local',
  '@baton/launcher-slurm': 'plugins/launcher-slurm',
  '@baton/launcher-ssh': 'plugins/launcher-ssh',
  '@baton/service-tensorboard': 'plugins/service-tensorboard',
  zod: 'packages/core/node_modules/zod',
  '@types/node': 'node_modules/@types/node',
};

const HEADER = `/// <reference types="@baton/launcher-ssh" />
import { defineSettings } from '@baton/core';
import type { UntypedKindSettings } from '@baton/core';
import type {} from '@baton/launcher-local';
import type {} from '@baton/launcher-slurm';
import type {} from '@baton/service-tensorboard';

// A plugin that ships no types: its kind declared loose, the others stay checked.
declare module '@baton/core' {
  interface LauncherKinds {
    acme: UntypedKindSettings;
  }
}
`;

const CORRECT = `${HEADER}
export default defineSettings({
  plugins: ['slurm', 'ssh', 'tensorboard', 'baton-plugin-acme'],
  connectors: { front: { use: 'ssh', host: 'front.lab', port: 2222 } },
  workspaces: [
    {
      id: 'main',
      path: './ws',
      launcher: 'cpu',
      launchers: {
        cpu: { use: 'slurm', partition: 'cpu', time: '4h', connector: 'front' },
        here: { use: 'local', maxConcurrent: 4 },
        pool: { use: 'threads', maxThreads: 2 },
        remote: { use: 'ssh-pool', maxConcurrent: 2 },
        acme: { use: 'acme', anything: ['goes'] },
      },
      services: {
        tb: { use: 'tensorboard', logdir: '~/runs' },
        web: { use: 'process', command: ['python', '-m', 'http.server'] },
      },
      tokens: { gpu: 2 },
    },
  ],
});
`;

const TYPOS = `${HEADER}
export default defineSettings({
  connectors: { front: { use: 'ssh', hots: 'front.lab' } },
  workspaces: [
    {
      id: 'main',
      path: './ws',
      launchers: {
        cpu: { use: 'slurm', partiton: 'cpu' },
        gpu: { use: 'slurmm' },
      },
      services: { tb: { use: 'tensorboard', logdri: '~/runs' } },
    },
  ],
});
`;

let project: string;

beforeAll(async () => {
  for (const [name, target] of Object.entries(LINKED)) {
    if (name.startsWith('@baton/') && !existsSync(join(REPO, target, 'dist', 'index.d.ts'))) {
      throw new Error(`${name} is not built (${join(REPO, target, 'dist', 'index.d.ts')} is missing): run npx tsc -b tsconfig.build.json first`);
    }
  }
  project = await mkdtemp(join(tmpdir(), 'baton-typed-settings-'));
  for (const [name, target] of Object.entries(LINKED)) {
    await mkdir(dirname(join(project, 'node_modules', name)), { recursive: true });
    await symlink(join(REPO, target), join(project, 'node_modules', name), 'dir');
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'typed-settings', private: true, type: 'module' }));
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files: ['baton.config.ts'],
    }),
  );
});

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

function tsc(settings: string): Promise<{ code: number; output: string }> {
  return writeFile(join(project, 'baton.config.ts'), settings).then(
    () =>
      new Promise((resolve) => {
        execFile(process.execPath, [TSC, '-p', join(project, 'tsconfig.json'), '--pretty', 'false'], { cwd: project }, (error, stdout, stderr) => {
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
        });
      }),
  );
}

describe('defineSettings in baton.config.ts, checked by tsc', () => {
  it(
    'accepts every built-in kind with its settings, `connector` on any launcher, and a kind declared untyped',
    async () => {
      const result = await tsc(CORRECT);
      expect(result.output).toBe('');
      expect(result.code).toBe(0);
    },
    TSC_TIMEOUT,
  );

  it(
    'reports a mistyped key of a launcher, connector or service block, and an unknown launcher kind, naming each',
    async () => {
      const result = await tsc(TYPOS);
      expect(result.code).not.toBe(0);
      const errors = result.output.split('\n').filter((line) => line.includes('error TS'));
      expect(errors.find((line) => line.includes("'partiton'"))).toMatch(/baton\.config\.ts\(\d+,\d+\): error TS\d+: .*'partiton' does not exist/);
      expect(errors.find((line) => line.includes("'hots'"))).toMatch(/'hots' does not exist/);
      expect(errors.find((line) => line.includes("'logdri'"))).toMatch(/'logdri' does not exist/);
      expect(errors.find((line) => line.includes('"slurmm"'))).toMatch(/Type '"slurmm"' is not assignable/);
      expect(errors).toHaveLength(4);
    },
    TSC_TIMEOUT,
  );
});
