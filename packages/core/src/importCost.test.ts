// What importing @baton/core costs a process that only defines tasks: every function
// task's job process does it (through the user's task module), so what it loads at once
// is paid per job. Built core (dist/, as a user runs it) in a plain Node process.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CORE = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Node built-in modules and CommonJS files a plain `import '@baton/core'` loaded. */
async function loadedByImport(): Promise<{ builtins: string[]; files: string[] }> {
  const script = [
    "import { createRequire } from 'node:module';",
    "await import('@baton/core');",
    'const builtins = process.moduleLoadList.filter((entry) => entry.startsWith("NativeModule ")).map((entry) => entry.slice(13));',
    'const files = Object.keys(createRequire(import.meta.url).cache);',
    'console.log(JSON.stringify({ builtins, files }));',
  ].join('\n');
  // From core's folder, `@baton/core` is the package itself: its built entry (no source condition).
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: CORE });
  return JSON.parse(stdout) as { builtins: string[]; files: string[] };
}

describe('importing @baton/core', () => {
  it('loads no process, network or terminal module, and none of the dependencies only some commands need', async () => {
    const { builtins, files } = await loadedByImport();
    // Taken on first use: spawning (local connector, services), HTTP readiness, the spawner's line reader.
    for (const name of ['child_process', 'readline', 'http', 'net']) expect({ name, loaded: builtins.includes(name) }).toEqual({ name, loaded: false });
    // Vendored (dist/vendor/) or plain dependencies, required on first use.
    for (const name of ['/vendor/', '/yaml/', '/cosmiconfig', '/debug/', '/proper-lockfile/', '/graceful-fs/']) {
      expect({ name, files: files.filter((file) => file.includes(name)) }).toEqual({ name, files: [] });
    }
  });
});
