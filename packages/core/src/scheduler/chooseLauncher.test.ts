import { describe, expect, it } from 'vitest';
import { parseRequirements } from '../task/requirements.ts';
import type { HostDescription, Launcher } from '../types.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { chooseLauncher } from './chooseLauncher.ts';

const G = 1024 ** 3;

function workspaceWith(hosts: Record<string, HostDescription>): Workspace {
  const launchers = new Map(Object.entries(hosts).map(([name, host]) => [name, { name, host } as unknown as Launcher]));
  return { id: 'main', launchers, defaultLauncher: Object.keys(hosts)[0]! } as unknown as Workspace;
}

describe('chooseLauncher and GPU memory', () => {
  const workspace = workspaceWith({ local: { cores: 4 }, small: { gpus: 4, gpuMemory: 16 * G }, big: { gpus: 2, gpuMemory: 40 * G } });

  it('picks the launcher whose GPUs have the memory asked for', () => {
    const choice = chooseLauncher({ workspace, alternatives: parseRequirements('cuda(mem=24G)') });
    expect('launcher' in choice && choice.launcher.name).toBe('big');
    const small = chooseLauncher({ workspace, alternatives: parseRequirements('cuda(mem=16G)*4') });
    expect('launcher' in small && small.launcher.name).toBe('small');
  });

  it('says, launcher by launcher, why none fits', () => {
    const choice = chooseLauncher({ workspace, alternatives: parseRequirements('cuda(mem=80G)') });
    expect('failure' in choice).toBe(true);
    const { message } = (choice as { failure: { message: string } }).failure;
    expect(message).toContain('(1 GPU of 80G)');
    expect(message).toContain('local offers 0 GPUs, 1 asked');
    expect(message).toContain('small offers GPUs with 16G of memory, 80G per GPU asked');
    expect(message).toContain('big offers GPUs with 40G of memory, 80G per GPU asked');
  });
});

describe('chooseLauncher order', () => {
  const workspace = workspaceWith({ local: { cores: 4 }, low: { cores: 8, gpus: 1, priority: 1 }, high: { cores: 8, gpus: 1, priority: 5 }, later: { cores: 8, gpus: 1, priority: 5 } });
  const pick = (requirements: string) => {
    const choice = chooseLauncher({ workspace, alternatives: parseRequirements(requirements) });
    return 'launcher' in choice ? `${choice.launcher.name}: ${JSON.stringify(choice.requirements)}` : choice.failure.message;
  };

  it('takes the default launcher when it fits, else the highest priority, then the first declared', () => {
    expect(pick('cpu(cores=2)')).toMatch(/^local:/);
    expect(pick('cuda')).toMatch(/^high:/);
  });

  it('tries the alternatives in order, each on every launcher, before the next alternative', () => {
    expect(pick('cuda | cpu(cores=2)')).toMatch(/^high: .*"gpus"/);
    expect(pick('cpu(cores=2) | cuda')).toMatch(/^local: .*"cores"/);
    expect(pick('cpu(cores=64) | cuda')).toMatch(/^high: .*"gpus"/);
  });
});
