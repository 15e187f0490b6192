// The plugin's kinds typed in a user's baton.config.ts, as `tsc` sees them: a small
// project whose node_modules link to this example and @baton/core (their built
// declaration files, as published), checked by the repository's own TypeScript. With
// the plugin's types in scope, `defineSettings` checks `use: echo-local` and
// `use: echo-http` blocks key by key. Reads dist/: build first (`npx tsc -b tsconfig.build.json`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const TSC_TIMEOUT = 180_000;

const LINKED: Record<string, string> = {
  '@baton/core': 'packages/core',
  '@baton/example-plugin-echo': 'examples/plugin-echo',
  zod: 'packages/core/node_modules/zod',
  '@types/node': 'node_modules/@types/node',
};

const HEADER = `import { defineSettings } from '@baton/core';
import type {} from '@baton/example-plugin-echo';
`;

/** A file per case, one tsc run for all: each file's errors are its own. */
const FILES: Record<string, string> = {
  'correct.ts': `${HEADER}
export default defineSettings({
  plugins: ['@baton/example-plugin-echo'],
  workspaces: [
    {
      id: 'main',
      path: './ws',
      launchers: { echo: { use: 'echo-local', tag: 'hi', cores: 8 }, plain: { use: 'echo-local' } },
      services: { hello: { use: 'echo-http', greeting: 'hi' }, web: { use: 'process', command: ['python3', '-m', 'http.server', '{port}'] } },
    },
  ],
});
`,
  'typos.ts': `${HEADER}
export default defineSettings({
  workspaces: [
    {
      id: 'main',
      path: './ws',
      launchers: { echo: { use: 'echo-local', tga: 'hi' }, wide: { use: 'echo-local', cores: 'eight' } },
      services: { hello: { use: 'echo-http', greting: 'hi' } },
    },
  ],
});
`,
};

let project: string;

beforeAll(async () => {
  for (const [name, target] of Object.entries(LINKED)) {
    const manifest = join(REPO, target, 'package.json');
    if (name.startsWith('@baton/') && !existsSync(join(REPO, target, 'dist', 'index.d.ts'))) {
      throw new Error(`${name} is not built (no dist/index.d.ts beside ${manifest}): run \`npx tsc -b tsconfig.build.json\` first`);
    }
  }
  project = await mkdtemp(join(tmpdir(), 'baton-echo-typed-settings-'));
  for (const [name, target] of Object.entries(LINKED)) {
    await mkdir(dirname(join(project, 'node_modules', name)), { recursive: true });
    await symlink(join(REPO, target), join(project, 'node_modules', name), 'dir');
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'echo-typed-settings', private: true, type: 'module' }));
  const compilerOptions = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] };
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(FILES) }));
  for (const [file, text] of Object.entries(FILES)) await writeFile(join(project, file), text);
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe("the plugin's kinds in defineSettings, checked by tsc", () => {
  it(
    'accepts blocks of echo-local and echo-http with their keys, and reports a mistyped key or a wrong value in each',
    async () => {
      const { output } = await tsc();
      const errors = output.split('\n').filter((line) => line.includes('error TS'));
      expect(errors.filter((line) => line.startsWith('correct.ts')), 'correct.ts type-checks').toEqual([]);
      expect(errors.find((line) => line.includes("'tga'"))).toMatch(/^typos\.ts\(\d+,\d+\): error TS\d+: .*'tga' does not exist/);
      expect(errors.find((line) => line.includes("'greting'"))).toMatch(/^typos\.ts\(\d+,\d+\): error TS\d+: .*'greting' does not exist/);
      expect(errors.find((line) => line.includes("Type 'string' is not assignable"))).toMatch(/^typos\.ts\(\d+,\d+\): error TS\d+: Type 'string' is not assignable to type 'number'/);
      expect(errors, output).toHaveLength(3);
    },
    TSC_TIMEOUT,
  );
});

function tsc(): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, '-p', join(project, 'tsconfig.json'), '--pretty', 'false'], { cwd: project }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}
