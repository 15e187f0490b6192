// The real one-node OAR of `bash scripts/oar-cluster.sh start`, as the integration
// tests meet it. OAR refuses jobs from root (an admission rule), so a test process
// running as root (CI) becomes the cluster's test user, whose home holds the
// workspaces, as a researcher on a login node would be. It keeps one root helper,
// started before that, to stop and start the OAR server for the outage test.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const START_HINT = 'start it with: sudo bash scripts/oar-cluster.sh start';
const clusterScript = fileURLToPath(new URL('../../../../scripts/oar-cluster.sh', import.meta.url));

/** True when OAR answers: `oarnodes -s` lists the node. */
export function oarClusterUp(): boolean {
  const run = spawnSync('oarnodes', ['-s'], { encoding: 'utf8', timeout: 15_000 });
  return run.status === 0 && /Alive/.test(run.stdout);
}

export interface ClusterUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The user OAR jobs are submitted as: the test user when this process is root, else this process's own. */
export function clusterUser(): ClusterUser {
  if (process.getuid?.() !== 0) {
    return { name: process.env.USER ?? String(process.getuid?.()), uid: process.getuid!(), gid: process.getgid!(), home: process.env.HOME ?? '/tmp' };
  }
  const name = process.env.BATON_OAR_USER ?? 'batontest';
  const entry = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout.trim().split(':');
  if (entry.length < 7) throw new Error(`the OAR test user ${name} does not exist; ${START_HINT}`);
  return { name, uid: Number(entry[2]), gid: Number(entry[3]), home: entry[5]! };
}

/**
 * Runs `oar-cluster.sh stop-server | start-server` with root's rights: through a root
 * helper when this process started as root, else through `sudo -n`.
 */
export class ServerControl {
  readonly #helper: ChildProcessWithoutNullStreams | undefined;
  #output = '';

  constructor() {
    if (process.getuid?.() !== 0) return;
    // Reads one command per line and answers `rc N` once it has run.
    this.#helper = spawn('bash', ['-c', 'while read -r command; do bash "$0" "$command" >&2; echo "rc $?"; done', clusterScript], { stdio: 'pipe' });
    this.#helper.stdout.on('data', (chunk) => (this.#output += chunk));
    this.#helper.stderr.on('data', (chunk) => (this.#output += chunk));
  }

  /** Whether stop-server and start-server can be run at all. */
  get available(): boolean {
    return this.#helper !== undefined || spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  }

  async run(command: 'stop-server' | 'start-server'): Promise<void> {
    if (!this.#helper) {
      const run = spawnSync('sudo', ['-n', 'bash', clusterScript, command], { encoding: 'utf8', timeout: 120_000 });
      if (run.status !== 0) throw new Error(`sudo bash scripts/oar-cluster.sh ${command} failed (${run.status}): ${run.stdout}${run.stderr}`);
      return;
    }
    const before = this.#output.length;
    this.#helper.stdin.write(`${command}\n`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const answer = /rc (\d+)/.exec(this.#output.slice(before));
      if (answer) {
        if (answer[1] !== '0') throw new Error(`bash scripts/oar-cluster.sh ${command} failed (${answer[1]}): ${this.#output.slice(before)}`);
        return;
      }
      if (Date.now() > deadline) throw new Error(`bash scripts/oar-cluster.sh ${command} did not finish in 120 s: ${this.#output.slice(before)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  close(): void {
    this.#helper?.stdin.end();
  }
}

/** Makes this process the cluster user (when it is root), with that user's HOME. */
export function becomeClusterUser(user: ClusterUser): void {
  if (process.getuid?.() !== 0) return;
  process.setgroups?.([user.gid]);
  process.setgid!(user.gid);
  process.setuid!(user.uid);
  process.env.HOME = user.home;
  process.env.USER = user.name;
  process.env.LOGNAME = user.name;
}
