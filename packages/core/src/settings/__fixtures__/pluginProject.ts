// A throwaway project folder for plugin tests: node_modules links @baton/core and
// zod as an installed project has them, so fixture plugins import them by name.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CORE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function makePluginProject(): Promise<{ dir: string; write: (path: string, content: string) => Promise<string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-plugins-'));
  await mkdir(join(dir, 'node_modules', '@baton'), { recursive: true });
  await symlink(CORE_DIR, join(dir, 'node_modules', '@baton', 'core'));
  await symlink(join(CORE_DIR, 'node_modules', 'zod'), join(dir, 'node_modules', 'zod'));
  // Fixture .ts files are ES modules, as in a real plugin package.
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'fixture-project', type: 'module' }));
  const write = async (path: string, content: string): Promise<string> => {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
    return full;
  };
  return { dir, write };
}

/** Source of a plugin with one launcher kind whose settings need a `partition`. */
export function fakeLauncherPluginSource(options: { kind: string; pluginName?: string }): string {
  const { kind, pluginName = `fake-${kind}` } = options;
  return `
import { definePlugin, type Launcher, type LauncherContext } from '@baton/core';
import { z } from 'zod';

const settings = z.object({ partition: z.string(), maxConcurrent: z.int().positive().optional() });

export default definePlugin({
  name: ${JSON.stringify(pluginName)},
  launchers: {
    ${JSON.stringify(kind)}: {
      settings,
      create(options: z.output<typeof settings>, context: LauncherContext): Launcher & { partition: string; workspacePath: string } {
        return {
          name: context.name,
          kind: ${JSON.stringify(kind)},
          connector: context.connector,
          host: {},
          pollIntervalMs: 10,
          maxConcurrent: options.maxConcurrent,
          partition: options.partition,
          workspacePath: context.workspacePath,
          async submit(requests) {
            return requests.map(() => ({ failure: { code: null, reason: 'rejected' as const, message: 'fake launcher' } }));
          },
          async status(handles) {
            return handles.map(() => ({ state: 'unknown' as const }));
          },
          async cancel() {},
        };
      },
    },
  },
});
`;
}
