// A job's process.json once it is whole: the first launch creates it in one write, so a
// reader polling for it can meet the file created but not yet written.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function readLaunchRecord(directory: string): Promise<{ pid?: number } | undefined> {
  const text = await readFile(join(directory, 'process.json'), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as { pid?: number };
  } catch {
    return undefined;
  }
}
