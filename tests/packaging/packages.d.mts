// Types of packages.mjs (plain Node ESM, so that scripts/check-packages.mjs runs without a build).

export declare const REPO: string;

export interface PublishablePackage {
  name: string;
  version: string;
  /** Absolute path of the package's directory in the repository. */
  dir: string;
}

export interface PackedPackage extends PublishablePackage {
  /** Absolute path of the tarball. */
  tarball: string;
  /** Paths inside the tarball, as `pnpm pack --json` lists them. */
  files: string[];
}

export interface RunResult {
  /** Exit code, or the signal's name when the process was killed. */
  code: number | string;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** What the command does, for the error message ("pack @baton/core"). */
  what?: string;
  /** Resolve with the exit code instead of rejecting when the command fails. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export declare function pnpmCommand(): { command: string; args: string[] };
export declare function publishablePackages(): PublishablePackage[];
export declare function buildPackages(): Promise<void>;
export declare function packPackages(options: { destination: string }): Promise<PackedPackage[]>;
export declare function lintTarball(tarball: string): Promise<{ problems: string[]; notes: string[] }>;
export declare function staleBuildOutputs(pkg: PackedPackage): string[];
export declare function run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
