// `baton jobs log`: print a job's output, optionally following it like `tail -f`. A job of a
// workspace on another host is read through that workspace's connector.
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { jobFile, type Connector } from '@baton/core';

const POLL_MS = 200;
/** Each look through a connector is a round trip to its host (and a read of the whole file). */
const CONNECTOR_POLL_MS = 1000;

interface JobOutputOptions {
  directory: string;
  stream: 'stdout' | 'stderr';
  /** The workspace's connector when it lives on another host; otherwise the files are read here. */
  connector?: Connector;
}

export async function printJobOutput(options: JobOutputOptions): Promise<void> {
  const path = jobFile(options.directory, options.stream);
  if (!options.connector) {
    await copyNewBytes({ path, offset: 0 });
    return;
  }
  const text = await options.connector.readFileIfExists(path);
  if (text) await writeOut(text);
}

/** Prints the output, then what gets appended, until the job has a done or failed marker. */
export async function followJobOutput(options: JobOutputOptions): Promise<void> {
  if (options.connector) return followThroughConnector({ ...options, connector: options.connector });
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

/** The same through a connector, which reads whole files as text: what is new is what lies past the text already printed. */
async function followThroughConnector(options: JobOutputOptions & { connector: Connector }): Promise<void> {
  const { connector, directory } = options;
  const path = jobFile(directory, options.stream);
  let printed = 0;
  for (;;) {
    const finished = (await connector.exists(jobFile(directory, 'done'))) || (await connector.exists(jobFile(directory, 'failed')));
    const text = (await connector.readFileIfExists(path)) ?? '';
    // A character cut in two by a write in progress decodes as U+FFFD: print it once it is whole.
    const end = !finished && text.endsWith('\uFFFD') ? text.length - 1 : text.length;
    if (end > printed) await writeOut(text.slice(printed, end));
    printed = Math.max(printed, end);
    if (finished) return;
    await sleep(CONNECTOR_POLL_MS);
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
      await writeOut(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
}

/** Writes to stdout, waiting until it is taken (a slow pipe holds the reader back, not memory). */
function writeOut(chunk: string | Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => process.stdout.write(chunk, (error) => (error ? reject(error) : resolve())));
}
