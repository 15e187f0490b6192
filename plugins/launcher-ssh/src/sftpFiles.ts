// Promise wrappers around ssh2's SFTP calls, with SFTP's status codes turned into
// the errno codes the rest of Baton checks (ENOENT, EACCES, EEXIST).
import type { SFTPWrapper, Stats } from 'ssh2';

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

export function sftpError(error: unknown, operation: string, path: string): NodeJS.ErrnoException {
  const status = (error as { code?: unknown }).code;
  const code = status === NO_SUCH_FILE ? 'ENOENT' : status === PERMISSION_DENIED ? 'EACCES' : typeof status === 'string' ? status : 'EIO';
  const wrapped = new Error(`${operation} ${path}: ${(error as Error).message} (over SFTP)`) as NodeJS.ErrnoException;
  wrapped.code = code;
  wrapped.path = path;
  wrapped.cause = error;
  return wrapped;
}

export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function call<T>(operation: string, path: string, run: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    run((error, value) => {
      if (error) reject(sftpError(error, operation, path));
      else resolve(value as T);
    }),
  );
}

export const sftpCalls = {
  readFile: (sftp: SFTPWrapper, path: string) => call<Buffer>('read', path, (done) => sftp.readFile(path, done)).then((data) => data.toString('utf8')),
  writeFile: (sftp: SFTPWrapper, path: string, data: string, mode: number) => call<void>('write', path, (done) => sftp.writeFile(path, data, { mode }, (error) => done(error))),
  appendFile: (sftp: SFTPWrapper, path: string, data: string) => call<void>('append to', path, (done) => sftp.appendFile(path, data, (error) => done(error))),
  stat: (sftp: SFTPWrapper, path: string) => call<Stats>('stat', path, (done) => sftp.stat(path, done)),
  mkdir: (sftp: SFTPWrapper, path: string) => call<void>('mkdir', path, (done) => sftp.mkdir(path, (error) => done(error))),
  rmdir: (sftp: SFTPWrapper, path: string) => call<void>('rmdir', path, (done) => sftp.rmdir(path, (error) => done(error))),
  unlink: (sftp: SFTPWrapper, path: string) => call<void>('remove', path, (done) => sftp.unlink(path, (error) => done(error))),
  readdir: (sftp: SFTPWrapper, path: string) =>
    call<{ filename: string }[]>('list', path, (done) => sftp.readdir(path, done)).then((entries) => entries.map((entry) => entry.filename).filter((name) => name !== '.' && name !== '..')),
  /** Entries with their attributes (lstat-like: a link is a link). */
  list: (sftp: SFTPWrapper, path: string) =>
    call<{ filename: string; attrs: Stats }[]>('list', path, (done) => sftp.readdir(path, done)).then((entries) => entries.filter((entry) => entry.filename !== '.' && entry.filename !== '..')),
  readlink: (sftp: SFTPWrapper, path: string) => call<string>('readlink', path, (done) => sftp.readlink(path, done)),
  /** Replaces `to` if it exists (OpenSSH's posix-rename extension); plain SFTP rename refuses to. */
  rename: (sftp: SFTPWrapper, from: string, to: string) => call<void>('rename', `${from} to ${to}`, (done) => sftp.ext_openssh_rename(from, to, (error) => done(error))),
  symlink: (sftp: SFTPWrapper, target: string, path: string) => call<void>('symlink', path, (done) => sftp.symlink(target, path, (error) => done(error))),
  utimes: (sftp: SFTPWrapper, path: string, time: Date) => call<void>('touch', path, (done) => sftp.utimes(path, time, time, (error) => done(error))),
  realpath: (sftp: SFTPWrapper, path: string) => call<string>('resolve', path, (done) => sftp.realpath(path, done)),
};
