// The folder of one experiment run: `<workspace>/experiments/<name>/<run-id>`, the
// `current` link to the latest run, and the links to the jobs a run submitted.
import { mkdir, readdir, readlink, rename, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export function runIdFor(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('.', '-').replace('Z', '');
}

export async function makeRunDirectory(base: string, runId: string): Promise<string> {
  await mkdir(base, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const path = join(base, attempt === 0 ? runId : `${runId}-${attempt}`);
    try {
      await mkdir(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw error;
    }
  }
}

export async function readCurrentRun(base: string): Promise<string | undefined> {
  return readlink(join(base, 'current')).catch(() => undefined);
}

export async function pointCurrentRun(base: string, runId: string): Promise<void> {
  const temporary = join(base, `.current-${process.pid}`);
  await unlink(temporary).catch(() => undefined);
  await symlink(runId, temporary);
  await rename(temporary, join(base, 'current'));
}

export async function listRuns(base: string): Promise<string[]> {
  const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .reverse();
}

/** Longest file name on common file systems. */
const MAX_FILE_NAME = 255;

/** `<task-id>--<hash>`, the task id cut short if the name would be too long for a file name. */
export function jobLinkName(taskId: string, hash: string): string {
  const suffix = `--${hash}`;
  return `${taskId.slice(0, MAX_FILE_NAME - suffix.length)}${suffix}`;
}
