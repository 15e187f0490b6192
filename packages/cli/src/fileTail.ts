// The end of a job's file (its stderr), read without reading the whole file: a job's stderr
// can be gigabytes. `baton report` and the failure summary of `baton run-experiment` read
// failed jobs' stderr through here, on this machine or through a workspace's connector.
import { open } from 'node:fs/promises';
import type { Connector } from '@baton/core';

/** Enough of the end of a stderr file for its last lines. */
export const STDERR_TAIL_BYTES = 64 * 1024;

/**
 * The last `bytes` of a file, from the first whole line within them; undefined when it does
 * not exist. With a connector (a workspace on another host) `tail -c` runs on that host, so
 * only the end crosses the network.
 */
export async function readFileTail(options: { path: string; bytes?: number; connector?: Connector }): Promise<string | undefined> {
  const bytes = options.bytes ?? STDERR_TAIL_BYTES;
  if (options.connector && options.connector.kind !== 'local') return tailThroughConnector(options.connector, options.path, bytes);
  const handle = await open(options.path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return fromFirstWholeLine(buffer, start > 0);
  } finally {
    await handle.close();
  }
}

/** The last `count` lines of a text (a final newline ends the last line, it does not start another). */
export function lastLines(text: string, count: number): string[] {
  if (count <= 0) return [];
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.length === 1 && lines[0] === '' ? [] : lines.slice(-count);
}

async function tailThroughConnector(connector: Connector, path: string, bytes: number): Promise<string | undefined> {
  if (!(await connector.exists(path))) return undefined;
  const result = await connector.run(['tail', '-c', String(bytes), path]);
  if (result.code !== 0) throw new Error(`tail -c ${bytes} ${path} on ${connector.hostname} failed (exit ${result.code ?? result.signal}): ${result.stderr.trim()}`);
  const buffer = Buffer.from(result.stdout, 'utf8');
  // As many bytes as asked for: the file may well be longer, and its first line cut.
  return fromFirstWholeLine(buffer, buffer.length >= bytes);
}

function fromFirstWholeLine(buffer: Buffer, cut: boolean): string {
  const text = buffer.toString('utf8');
  return cut ? text.slice(text.indexOf('\n') + 1) : text;
}
