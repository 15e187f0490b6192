// The file operations the scheduler does for every job (a job's small files,
// its directory), through Node's callback API. fs/promises reaches a file
// through a FileHandle (an object per file, its own close, promise bookkeeping
// on both sides): for files of a few hundred bytes that is 2-4 times the CPU of
// the same calls through the callback API, which run on the same thread pool
// with the same semantics and errors (2000 creates of a 600-byte file, 64 at a
// time: 230-540 ms of CPU through fs/promises, 80-210 ms through callbacks).
import fs from 'node:fs';
import { promisify } from 'node:util';

export const appendFile: (path: string, data: string) => Promise<void> = promisify(fs.appendFile);
export const writeFile: (path: string, data: string, options: { mode: number }) => Promise<void> = promisify(fs.writeFile);
export const readFile: (path: string, encoding: 'utf8') => Promise<string> = promisify(fs.readFile);
export const rename: (from: string, to: string) => Promise<void> = promisify(fs.rename);
export const mkdir: (path: string, options: { recursive: boolean }) => Promise<string | undefined> = promisify(fs.mkdir);
