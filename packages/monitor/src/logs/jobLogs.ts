// A job's stdout and stderr, read for the monitor: only those two files, only in job
// directories of this workspace. The job is named by task id and hash (checked against
// what they can be), never by a path; on this machine, the job directory must really be
// `<workspace>/jobs/<task>/<hash>` (no link out of it) and the file must be a plain file
// opened without following a link. Offsets are bytes on this machine, characters through
// another host's connector (whose files are read whole, as text).
import { constants } from 'node:fs';
import { access, open, realpath } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { jobFile, type Connector } from '@baton/core';
import type { LogChunk } from '../types.ts';

export type LogStream = 'stdout' | 'stderr';

/** Why a log cannot be read; `status` is the HTTP status it answers with. */
export class LogRefused extends Error {
  constructor(
    readonly status: 400 | 403 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** Task ids as defineTask accepts them: a single file name, never `.` or `..`. */
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const HASH = /^[0-9a-f]{1,128}$/;
/** At most this much text in one answer. */
const MAX_CHUNK = 1024 * 1024;
/** Without an offset, the end of a long output: this much of it. */
const DEFAULT_TAIL = 256 * 1024;

export interface ReadLogOptions {
  taskId: string;
  hash: string;
  stream: string;
  /** Where to start; default: the last 256 KiB. */
  offset?: number;
  limit?: number;
}

export class JobLogs {
  readonly #workspacePath: string;
  /** Another host's connector; undefined: this machine's files. */
  readonly #remote: Connector | undefined;

  constructor(options: { workspacePath: string; connector: Connector }) {
    this.#workspacePath = options.workspacePath;
    this.#remote = options.connector.kind === 'local' ? undefined : options.connector;
  }

  /** `<workspace>/jobs/<task>/<hash>`, once task id and hash are known to be names of that form. */
  jobDirectory(taskId: string, hash: string): string {
    if (!TASK_ID.test(taskId)) throw new LogRefused(400, `"${taskId}" is not a task id`);
    if (!HASH.test(hash)) throw new LogRefused(400, `"${hash}" is not a job hash`);
    return (this.#remote ? posix.join : join)(this.#workspacePath, 'jobs', taskId, hash);
  }

  async read(options: ReadLogOptions): Promise<LogChunk> {
    const stream = checkStream(options.stream);
    const directory = this.jobDirectory(options.taskId, options.hash);
    const limit = Math.min(options.limit ?? MAX_CHUNK, MAX_CHUNK);
    // Looked at before reading: output written just before the marker is in this read.
    if (this.#remote) {
      await this.#checkRemote(directory, options, stream);
      const finished = await this.#finished(directory);
      const text = (await this.#remote.readFileIfExists(jobFile(directory, stream))) ?? '';
      const offset = startAt(options.offset, text.length);
      const end = Math.min(text.length, offset + limit);
      return { text: text.slice(offset, end), offset, next: end, size: text.length, finished };
    }
    const real = await this.#realJobDirectory(directory, options);
    const finished = await this.#finished(real);
    return readLocal({ path: join(real, stream), offset: options.offset, limit, finished });
  }

  /** The job directory as it really is, refused when it leads out of the workspace's jobs. */
  async #realJobDirectory(directory: string, job: { taskId: string; hash: string }): Promise<string> {
    const [jobsRoot, real] = await Promise.all([
      realpath(join(this.#workspacePath, 'jobs')).catch(() => undefined),
      realpath(directory).catch(() => undefined),
    ]);
    if (jobsRoot === undefined || real === undefined) throw new LogRefused(404, `No job ${job.taskId}/${job.hash} in this workspace`);
    if (real !== join(jobsRoot, job.taskId, job.hash)) throw new LogRefused(403, `The directory of job ${job.taskId}/${job.hash} leads out of the workspace's jobs`);
    return real;
  }

  /** Through a connector: the task folder and the job folder are folders, the file a plain file (no links). */
  async #checkRemote(directory: string, job: { taskId: string; hash: string }, stream: LogStream): Promise<void> {
    const remote = this.#remote!;
    const taskEntries = await remote.listDirectory(posix.join(this.#workspacePath, 'jobs')).catch(() => []);
    const jobEntries = await remote.listDirectory(posix.dirname(directory)).catch(() => []);
    const task = taskEntries.find((entry) => entry.name === job.taskId);
    const jobEntry = jobEntries.find((entry) => entry.name === job.hash);
    if (!task || !jobEntry) throw new LogRefused(404, `No job ${job.taskId}/${job.hash} in this workspace`);
    if (task.kind !== 'directory' || jobEntry.kind !== 'directory') throw new LogRefused(403, `The directory of job ${job.taskId}/${job.hash} leads out of the workspace's jobs`);
    const file = (await remote.listDirectory(directory).catch(() => [])).find((entry) => entry.name === stream);
    if (file && file.kind !== 'file') throw new LogRefused(403, `The ${stream} of job ${job.taskId}/${job.hash} is not a plain file`);
  }

  async #finished(directory: string): Promise<boolean> {
    const files = this.#remote ?? { exists: (path: string) => access(path).then(() => true, () => false) };
    return (await files.exists(jobFile(directory, 'done'))) || (await files.exists(jobFile(directory, 'failed')));
  }
}

function checkStream(stream: string): LogStream {
  if (stream === 'stdout' || stream === 'stderr') return stream;
  throw new LogRefused(400, `"${stream}" is not a job output: stdout or stderr`);
}

function startAt(offset: number | undefined, size: number): number {
  if (offset === undefined) return Math.max(0, size - DEFAULT_TAIL);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new LogRefused(400, `offset ${offset} is not a position in the file`);
  return Math.min(offset, size);
}

/** Bytes from `offset`, cut at the last whole UTF-8 character (the rest comes next time), unless the job has ended. */
async function readLocal(options: { path: string; offset: number | undefined; limit: number; finished: boolean }): Promise<LogChunk> {
  let file;
  try {
    // O_NOFOLLOW: a link put in place of the file is refused, not followed.
    file = await open(options.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { text: '', offset: 0, next: 0, size: 0, finished: options.finished };
    if (code === 'ELOOP') throw new LogRefused(403, `${options.path} is a link: refused`);
    throw error;
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) throw new LogRefused(403, `${options.path} is not a plain file`);
    const size = info.size;
    const offset = startAt(options.offset, size);
    const buffer = Buffer.alloc(Math.min(options.limit, size - offset));
    const { bytesRead } = buffer.length === 0 ? { bytesRead: 0 } : await file.read(buffer, 0, buffer.length, offset);
    const bytes = buffer.subarray(0, bytesRead);
    const atEnd = offset + bytesRead >= size;
    const whole = options.finished && atEnd ? bytes.length : completeUtf8Length(bytes);
    // Started in the middle of a character (a tail): skip its continuation bytes.
    const skip = options.offset === undefined ? leadingContinuationBytes(bytes) : 0;
    return { text: bytes.subarray(skip, whole).toString('utf8'), offset: offset + skip, next: offset + whole, size, finished: options.finished };
  } finally {
    await file.close();
  }
}

/** Length of the longest prefix that ends on a whole UTF-8 character. */
export function completeUtf8Length(bytes: Uint8Array): number {
  // Look back at most 3 bytes for the lead byte of a character cut short.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

function leadingContinuationBytes(bytes: Uint8Array): number {
  let count = 0;
  while (count < Math.min(3, bytes.length) && (bytes[count]! & 0xc0) === 0x80) count++;
  return count;
}
