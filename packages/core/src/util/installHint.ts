// How to install a package, in the words of the package manager the user runs: the one
// that started this process says so in `npm_config_user_agent` ("pnpm/10.3.0 npm/? node/v20...");
// without it (a global `baton`, plain `node`), npm, which every Node.js ships with.

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

const ADD_COMMANDS: Readonly<Record<PackageManager, string>> = {
  npm: 'npm install',
  pnpm: 'pnpm add',
  yarn: 'yarn add',
  bun: 'bun add',
};

/** The package manager that started this process, from `npm_config_user_agent`; npm when unknown. */
export function userPackageManager(options: { env?: NodeJS.ProcessEnv } = {}): PackageManager {
  const { env = process.env } = options;
  const name = /^([a-z]+)\//.exec(env.npm_config_user_agent ?? '')?.[1];
  return name !== undefined && Object.hasOwn(ADD_COMMANDS, name) ? (name as PackageManager) : 'npm';
}

/** The command that adds these packages to the project: `npm install a b`, `pnpm add a b`, `yarn add a b`. */
export function installCommand(options: { packages: readonly string[]; env?: NodeJS.ProcessEnv }): string {
  return [ADD_COMMANDS[userPackageManager({ env: options.env })], ...options.packages].join(' ');
}
