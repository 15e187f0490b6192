// `baton jobs log`: print a job's output, optionally following it like `tail -f`.
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { jobFile } from '@baton/core';

const POLL_MS = 200;

export async function printJobOutput(options: { directory: string; stream: 'stdout' | 'stderr' }): Promise<void> {
  await copyNewBytes({ path: jobFile(options.directory, options.stream), offset: 0 });
}

/** Prints the output, then what gets appended, until the job has a done or failed marker. */
export async function followJobOutput(options: { directory: string; stream: 'stdout' | 'stderr' }): Promise<void> {
  const path = jobFile(options.directory, options.stream);
  let offset = 0;
  for (;;) {
    // Check the marker before reading, so that output written just before it is not lost.
    const finished = existsSync(jobFile(options.directory, 'done')) || existsSync(jobFile(options.directory, 'failed'));
    offset = await copyNewBytes({ path, offset });
    if (finished) return;
    await sleep(POLL_MS);
  }
}

/** Writes the file's bytes from `offset` to stdout; returns the new offset. A missing file has none. */
async function copyNewBytes(options: { path: string; offset: number }): Promise<number> {
  const file = await open(options.path, 'r').catch(() => undefined);
  if (!file) return options.offset;
  try {
    let offset = options.offset;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) return offset;
      offset += bytesRead;
      await new Promise<void>((resolve, reject) => process.stdout.write(buffer.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve())));
    }
  } finally {
    await file.close();
  }
}
