// The files of a workspace on this machine, for the job catalog when it is given no
// connector (`baton jobs list --workdir DIR`). The catalog reaches a workspace only
// through these methods, so a remote workspace is read the same way through its
// connector. Just node:fs: no process spawner, no locks, so that listing an empty
// workspace loads little more than the catalog itself.
import { readdir, readlink, rm, rmdir } from 'node:fs/promises';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { readFile, rename, writeFile } from '../connector/callbackFs.ts';
import { ProcessProbe, hasProcFs } from '../connector/processLiveness.ts';
import type { Connector, DirectoryEntry } from '../types.ts';

/** What the job catalog needs of a connector to read a workspace's jobs and clean them. */
export type WorkspaceFiles = Pick<
  Connector,
  'hostname' | 'isProcessAlive' | 'readFileIfExists' | 'writeFile' | 'exists' | 'remove' | 'rmdir' | 'listDirectory' | 'readlink' | 'resolve'
>;

/** This machine's files, as LocalConnector reaches them (same semantics, fewer modules). */
export const localFiles: WorkspaceFiles = {
  hostname: hostname(),

  async isProcessAlive(pid, commandLineIncludes) {
    // A zombie has exited; only its parent has not collected it yet.
    if (!(await new ProcessProbe().isProcessAlive(pid))) return false;
    if (commandLineIncludes === undefined || !(await hasProcFs())) return true;
    // Guards against pid reuse: the pid must still run the command that was started.
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
    return commandLine !== undefined && commandLine.includes(commandLineIncludes);
  },

  async readFileIfExists(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw error;
    }
  },

  async writeFile(path, data, options = {}) {
    // Readers never see a half-written file: write beside it, then rename over it.
    const temporary = besidePath(path);
    try {
      await writeFile(temporary, data, { mode: options.mode ?? 0o644 });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  },

  async exists(path) {
    return existsSync(path);
  },

  remove(path) {
    return rm(path, { recursive: true, force: true });
  },

  rmdir(path) {
    return rmdir(path);
  },

  async listDirectory(path) {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.map(
      (entry): DirectoryEntry => ({
        name: entry.name,
        kind: entry.isSymbolicLink() ? 'symlink' : entry.isDirectory() ? 'directory' : entry.isFile() ? 'file' : 'other',
      }),
    );
  },

  readlink(path) {
    return readlink(path).catch(() => undefined);
  },

  resolve(path) {
    return resolve(path);
  },
};

/** localFiles.writeFile, synchronously: for small files on a local disk (see connector/localDisk.ts). */
export function writeFileBesideSync(path: string, data: string, mode = 0o644): void {
  const temporary = besidePath(path);
  try {
    // With its encoding named: Node writes a string in one native call (without it, a Buffer, then open, write, close).
    writeFileSync(temporary, data, { encoding: 'utf8', mode });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** A name beside `path` that no other writer picks: written there, then renamed over `path`. */
function besidePath(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
}
