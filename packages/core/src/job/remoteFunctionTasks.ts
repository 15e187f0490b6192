// Function tasks on a host reached through a connector (a workspace on a remote
// host): their job runs the host's Node on the runner of the @baton/core that the
// task's module resolves there (the project is on the host at the same path, a
// shared home or a checkout: the module imports @baton/core itself). The host's Node
// is checked once, when the workspace opens, so that a host without a suitable one
// refuses function tasks at submit with one clear error instead of failing a job
// per task; the runner is looked up once per module folder.
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatonError } from '../errors.ts';
import type { Connector } from '../types.ts';

/** Oldest Node that runs Baton. */
const MINIMUM_NODE: readonly [number, number] = [20, 19];

export class RemoteFunctionTasks {
  readonly #connector: Connector;
  readonly #node: string;
  readonly #runners = new Map<string, Promise<string>>();
  /** Why function tasks cannot run on the host; undefined when they can. */
  readonly problem: string | undefined;
  /** The host's Node version, when it answered. */
  readonly version: string | undefined;

  private constructor(connector: Connector, node: string, found: { version?: string; problem?: string }) {
    this.#connector = connector;
    this.#node = node;
    this.version = found.version;
    this.problem = found.problem;
  }

  /** Asks the host for its Node (`node`: the command or path of the workspace's `node:` setting). */
  static async probe(connector: Connector, node = 'node'): Promise<RemoteFunctionTasks> {
    const where = `${connector.hostname} (${connector.kind})`;
    const result = await connector.run([node, '--version'], { timeoutMs: 30_000 }).catch((error: unknown) => ({ code: 127, stdout: '', stderr: (error as Error).message }));
    const version = result.stdout.trim();
    const match = /^v(\d+)\.(\d+)\./.exec(version);
    if (result.code !== 0 || !match) {
      return new RemoteFunctionTasks(connector, node, { problem: `\`${node} --version\` failed on ${where}: ${(result.stderr.trim() || `exit code ${result.code}`).split('\n')[0]}` });
    }
    const [major, minor] = [Number(match[1]), Number(match[2])];
    if (major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1])) {
      return new RemoteFunctionTasks(connector, node, { version, problem: `${node} on ${where} is Node ${version}; Baton needs ${MINIMUM_NODE.join('.')} or later` });
    }
    return new RemoteFunctionTasks(connector, node, { version });
  }

  /** The error submit throws for a function task when the host cannot run it. */
  refusal(taskId: string): BatonError | undefined {
    if (this.problem === undefined) return undefined;
    return new BatonError(`Function task "${taskId}" cannot run on the workspace's host: ${this.problem}`, {
      hint: 'install Node.js 20.19 or later on the host, or give its path with `node:` in the workspace settings; command tasks run without it',
    });
  }

  /** job.sh's argv for a function task of module `moduleUrl`: the host's Node on the runner its @baton/core has. */
  async runnerArgv(moduleUrl: string, directory: string): Promise<string[]> {
    const folder = posix.dirname(moduleUrl.startsWith('file:') ? fileURLToPath(moduleUrl) : moduleUrl);
    let runner = this.#runners.get(folder);
    if (!runner) {
      runner = this.#findRunner(folder);
      this.#runners.set(folder, runner);
    }
    return [this.#node, await runner, directory];
  }

  async #findRunner(folder: string): Promise<string> {
    // Resolved from the module's own folder, as its `import '@baton/core'` is.
    const result = await this.#connector.run([this.#node, '--input-type=module', '-e', "process.stdout.write(import.meta.resolve('@baton/core/runner'))"], {
      cwd: folder,
      timeoutMs: 30_000,
    });
    const url = result.stdout.trim();
    if (result.code !== 0 || !url.startsWith('file:')) {
      throw new BatonError(`The task module's folder ${folder} on ${this.#connector.hostname} does not resolve @baton/core: ${(result.stderr.trim() || `exit code ${result.code}`).split('\n').slice(-1)[0]}`, {
        where: folder,
        hint: 'a function task runs on the host from the same path as here: put the project there (a shared home, or a checkout at the same path) with its dependencies installed',
      });
    }
    return fileURLToPath(url);
  }
}
