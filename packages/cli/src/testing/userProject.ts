// A temporary project as a user would have it: @baton/core and zod installed,
// "type": "module", so that experiment files import them by name.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CORE_DIR = fileURLToPath(new URL('../../../core', import.meta.url));
const ZOD_DIR = dirname(createRequire(join(CORE_DIR, 'package.json')).resolve('zod/package.json'));

export async function createUserProject(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(join(dir, 'node_modules', '@baton'), { recursive: true });
  await symlink(CORE_DIR, join(dir, 'node_modules', '@baton', 'core'));
  await symlink(ZOD_DIR, join(dir, 'node_modules', 'zod'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  return dir;
}
