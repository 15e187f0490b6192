// A connector whose files live in memory: the scheduler's own work (claims,
// job files, markers) without a disk, so a stress test measures the scheduler,
// not the file system. Locks are per-path queues, within this process only.
import { posix } from 'node:path';
import type { CommandResult, Connector, DirectoryEntry, ReleaseLock } from '../../types.ts';

export class MemoryConnector implements Connector {
  readonly kind = 'memory';
  readonly hostname = 'memory';
  readonly files = new Map<string, string>();
  readonly directories = new Set<string>(['/']);
  readonly #locks = new Map<string, Promise<void>>();

  async run(): Promise<CommandResult> {
    throw new Error('a memory connector runs no commands');
  }

  async spawnDetached(): Promise<{ pid: number }> {
    throw new Error('a memory connector starts no processes');
  }

  async isProcessAlive(): Promise<boolean> {
    return false;
  }

  async isProcessGroupAlive(): Promise<boolean> {
    return false;
  }

  async killProcessGroup(): Promise<void> {}

  async readFile(path: string): Promise<string> {
    const text = this.files.get(path);
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
    return text;
  }

  async readFileIfExists(path: string): Promise<string | undefined> {
    return this.files.get(path);
  }

  async writeFile(path: string, data: string): Promise<void> {
    this.#parentMustExist(path);
    this.files.set(path, data);
  }

  async appendFile(path: string, data: string): Promise<void> {
    this.#parentMustExist(path);
    this.files.set(path, (this.files.get(path) ?? '') + data);
  }

  async mkdir(path: string, options: { exclusive?: boolean } = {}): Promise<void> {
    if (options.exclusive && this.directories.has(path)) throw Object.assign(new Error(`EEXIST: ${path}`), { code: 'EEXIST' });
    for (let directory = path; !this.directories.has(directory); directory = posix.dirname(directory)) this.directories.add(directory);
  }

  async rename(from: string, to: string): Promise<void> {
    const text = await this.readFile(from);
    this.files.delete(from);
    this.files.set(to, text);
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(path) || this.directories.has(path);
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
    if (!this.directories.has(path)) return;
    const inside = (candidate: string) => candidate === path || candidate.startsWith(`${path}/`);
    for (const file of [...this.files.keys()]) if (inside(file)) this.files.delete(file);
    for (const directory of [...this.directories]) if (inside(directory)) this.directories.delete(directory);
  }

  async readdir(path: string): Promise<string[]> {
    const names = new Set<string>();
    for (const entry of [...this.files.keys(), ...this.directories]) if (posix.dirname(entry) === path && entry !== path) names.add(posix.basename(entry));
    return [...names];
  }

  async rmdir(path: string): Promise<void> {
    if ((await this.readdir(path)).length > 0) throw Object.assign(new Error(`ENOTEMPTY: ${path}`), { code: 'ENOTEMPTY' });
    this.directories.delete(path);
  }

  async listDirectory(path: string): Promise<DirectoryEntry[]> {
    return (await this.readdir(path)).map((name) => {
      const full = posix.join(path, name);
      return { name, kind: this.directories.has(full) ? 'directory' : this.files.get(full)?.startsWith('-> ') ? 'symlink' : 'file' };
    });
  }

  async symlink(target: string, path: string): Promise<void> {
    this.files.set(path, `-> ${target}`);
  }

  async readlink(path: string): Promise<string | undefined> {
    const text = this.files.get(path);
    return text?.startsWith('-> ') ? text.slice(3) : undefined;
  }

  async lock(path: string): Promise<ReleaseLock> {
    const previous = this.#locks.get(path) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => held);
    this.#locks.set(path, chained);
    await previous;
    return async () => {
      release();
      if (this.#locks.get(path) === chained) this.#locks.delete(path);
    };
  }

  resolve(path: string): string {
    return path;
  }

  #parentMustExist(path: string): void {
    if (!this.directories.has(posix.dirname(path))) throw Object.assign(new Error(`ENOENT: no such directory, open '${path}'`), { code: 'ENOENT' });
  }
}
