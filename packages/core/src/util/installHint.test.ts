import { describe, expect, it } from 'vitest';
import { installCommand, userPackageManager } from './installHint.ts';

const agents = {
  npm: 'npm/10.8.2 node/v20.19.0 linux x64 workspaces/false',
  pnpm: 'pnpm/10.34.8 npm/? node/v20.19.0 linux x64',
  yarn: 'yarn/1.22.22 npm/? node/v20.19.0 linux x64',
  bun: 'bun/1.2.0 npm/? node/v22.6.0 linux x64',
};

describe('installCommand', () => {
  it.each([
    ['npm', 'npm install @baton/launcher-slurm'],
    ['pnpm', 'pnpm add @baton/launcher-slurm'],
    ['yarn', 'yarn add @baton/launcher-slurm'],
    ['bun', 'bun add @baton/launcher-slurm'],
  ] as const)('speaks %s when it started the process', (manager, command) => {
    const env = { npm_config_user_agent: agents[manager] };
    expect(userPackageManager({ env })).toBe(manager);
    expect(installCommand({ packages: ['@baton/launcher-slurm'], env })).toBe(command);
  });

  it('says npm install without a user agent (a global baton, plain node) or with one it does not know', () => {
    expect(installCommand({ packages: ['a', 'b'], env: {} })).toBe('npm install a b');
    expect(installCommand({ packages: ['a'], env: { npm_config_user_agent: 'deno/2.0.0' } })).toBe('npm install a');
    expect(installCommand({ packages: ['a'], env: { npm_config_user_agent: 'constructor/1' } })).toBe('npm install a');
  });
});
