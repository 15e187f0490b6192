// A Connector for unit tests: records every argv and answers from handlers the
// test installs; files live in a Map. The launcher's only seam to the host.
import type { CommandResult, Connector, DirectoryEntry, RunCommandOptions } from '@baton/core';

export type CommandHandler = (argv: readonly string[], options: RunCommandOptions | undefined) => Partial<CommandResult> | Promise<Partial<CommandResult>>;

export class FakeConnector implements Connector {
  readonly kind = 'fake';
  readonly hostname = 'login1';
  readonly commands: { argv: string[]; options: RunCommandOptions | undefined }[] = [];
  readonly files = new Map<string, string>();
  readonly modes = new Map<string, number>();
  readonly directories = new Set<string>();
  readonly #handlers = new Map<string, CommandHandler>();

  /** Answers every call of `command` (sbatch, sacct...). Unhandled commands fail as "not found". */
  on(command: string, handler: CommandHandler): this {
    this.#handlers.set(command, handler);
    return this;
  }

  /** Argv of the calls of one command. */
  calls(command: string): string[][] {
    return this.commands.filter(({ argv }) => argv[0] === command).map(({ argv }) => argv);
  }

  async run(argv: readonly string[], options?: RunCommandOptions): Promise<CommandResult> {
    this.commands.push({ argv: [...argv], options });
    const handler = this.#handlers.get(argv[0]!);
    if (!handler) throw Object.assign(new Error(`spawn ${argv[0]} ENOENT`), { code: 'ENOENT' });
    const result = await handler(argv, options);
    return { code: 0, signal: null, stdout: '', stderr: '', ...result };
  }

  async spawnDetached(): Promise<{ pid: number }> {
    throw new Error('the SLURM launcher never spawns processes itself');
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
    if (text === undefined) throw new Error(`ENOENT: ${path}`);
    return text;
  }
  async readFileIfExists(path: string): Promise<string | undefined> {
    return this.files.get(path);
  }
  async writeFile(path: string, data: string, options?: { mode?: number }): Promise<void> {
    this.files.set(path, data);
    if (options?.mode !== undefined) this.modes.set(path, options.mode);
  }
  async appendFile(path: string, data: string): Promise<void> {
    this.files.set(path, (this.files.get(path) ?? '') + data);
  }
  async mkdir(path: string): Promise<void> {
    this.directories.add(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.files.set(to, await this.readFile(from));
    this.files.delete(from);
  }
  async exists(path: string): Promise<boolean> {
    return this.files.has(path) || this.directories.has(path);
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
  async rmdir(path: string): Promise<void> {
    this.directories.delete(path);
  }
  async readdir(): Promise<string[]> {
    return [];
  }
  async listDirectory(): Promise<DirectoryEntry[]> {
    return [];
  }
  async symlink(): Promise<void> {}
  async readlink(): Promise<string | undefined> {
    return undefined;
  }
  async lock(): Promise<() => Promise<void>> {
    return async () => {};
  }
  resolve(path: string): string {
    return path;
  }
}
