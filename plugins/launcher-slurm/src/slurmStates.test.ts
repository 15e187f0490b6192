import type { LaunchStatus } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { expandJobId, parseSacct, parseSqueue } from './slurmRecords.ts';
import { exitCodeOf, knownSlurmStates, parseExitCode, slurmStatus } from './slurmStates.ts';

const record = (state: string, exitCode = '0:0', reason = 'None') => ({ jobId: '42', state, exitCode, reason, timeLimit: '00:01:00' });

describe('slurmStatus', () => {
  // The whole table: every state the issue names, and what Baton makes of it.
  const table: [string, string, Partial<LaunchStatus> & { reason?: string; code?: number | null }][] = [
    ['PENDING', '0:0', { state: 'queued' }],
    ['CONFIGURING', '0:0', { state: 'queued' }],
    ['RUNNING', '0:0', { state: 'running' }],
    ['COMPLETING', '0:0', { state: 'running' }],
    ['SUSPENDED', '0:0', { state: 'running', detail: 'suspended by SLURM' }],
    ['COMPLETED', '0:0', { state: 'finished' }],
    ['FAILED', '3:0', { state: 'finished', reason: 'failed', code: 3 }],
    ['CANCELLED', '0:15', { state: 'finished', reason: 'cancelled', code: 143 }],
    ['TIMEOUT', '0:15', { state: 'finished', reason: 'timeout', code: 143 }],
    // 125 after the colon is SLURM's own mark of an OOM kill, not a signal: no exit code.
    ['OUT_OF_MEMORY', '0:125', { state: 'finished', reason: 'oom', code: null }],
    ['NODE_FAIL', '0:0', { state: 'finished', reason: 'node_fail', code: null }],
    ['BOOT_FAIL', '0:0', { state: 'finished', reason: 'failed' }],
    ['DEADLINE', '0:0', { state: 'finished', reason: 'failed' }],
    ['REVOKED', '0:0', { state: 'finished', reason: 'failed' }],
    ['SPECIAL_EXIT', '2:0', { state: 'finished', reason: 'failed', code: 2 }],
    ['PREEMPTED', '0:0', { state: 'queued' }],
    ['REQUEUED', '0:0', { state: 'queued' }],
  ];

  it.each(table)('maps %s (exit %s)', (state, exitCode, expected) => {
    const status = slurmStatus(record(state, exitCode));
    expect(status.state).toBe(expected.state);
    if (expected.detail) expect(status.detail).toBe(expected.detail);
    if (expected.reason) {
      expect(status.failure).toMatchObject({ reason: expected.reason });
      if (expected.code !== undefined) expect(status.failure!.code).toBe(expected.code);
      expect(status.failure!.message).toContain('42');
    } else {
      expect(status.failure).toBeUndefined();
    }
  });

  it('names the state in the message of the rarer failures', () => {
    for (const state of ['BOOT_FAIL', 'DEADLINE', 'REVOKED', 'SPECIAL_EXIT']) expect(slurmStatus(record(state)).failure!.message).toContain(state);
    expect(slurmStatus(record('FAILED', '0:9')).failure!.message).toContain('killed by signal 9');
    expect(slurmStatus(record('TIMEOUT')).failure!.message).toContain('00:01:00');
  });

  it('covers every state it knows and reports an unknown one by name', () => {
    for (const [state] of table) expect(knownSlurmStates()).toContain(state);
    expect(slurmStatus(record('FROBNICATED'))).toEqual({ state: 'unknown', detail: expect.stringContaining('FROBNICATED') });
  });

  it('shows the pending reason as the detail of a queued job, not SLURM\'s "None"', () => {
    expect(slurmStatus(record('PENDING', '0:0', 'Priority'))).toEqual({ state: 'queued', detail: 'Priority' });
    expect(slurmStatus(record('PENDING', '0:0', 'ReqNodeNotAvail, UnavailableNodes:vm')).detail).toBe('ReqNodeNotAvail, UnavailableNodes:vm');
    expect(slurmStatus(record('PENDING'))).toEqual({ state: 'queued' });
    expect(slurmStatus(record('REQUEUED', '0:0', 'BeginTime')).detail).toBe('requeued by SLURM: BeginTime');
  });
});

describe('exit codes', () => {
  it('reads code:signal', () => {
    expect(parseExitCode('3:0')).toEqual({ code: 3, signal: 0 });
    expect(parseExitCode('0:15')).toEqual({ code: 0, signal: 15 });
    expect(parseExitCode('')).toBeUndefined();
    expect(parseExitCode(undefined)).toBeUndefined();
    expect(exitCodeOf({ code: 3, signal: 0 })).toBe(3);
    expect(exitCodeOf({ code: 0, signal: 9 })).toBe(137);
    expect(exitCodeOf(undefined)).toBeNull();
  });

  it('does not read as a signal what SLURM puts after the colon for a job it could not start, nor a field of another shape', () => {
    // A workspace path with `%` in it: SLURM could not open the --output file; the job never ran.
    expect(exitCodeOf(parseExitCode('0:53'))).toBeNull();
    const failed = slurmStatus(record('FAILED', '0:53'));
    expect(failed.failure).toMatchObject({ code: null, reason: 'failed' });
    expect(failed.failure!.message).not.toContain('signal 53');
    expect(failed.failure!.message).toMatch(/exit field 0:53, not a signal: SLURM could not start the job script/);
    expect(slurmStatus(record('FAILED', '0:9')).failure!.message).toContain('killed by signal 9 (SIGKILL)');
    for (const text of ['3', '3:0:1', 'a:b', '-1:0', '999:0', '3 : 0x']) {
      expect(parseExitCode(text), text).toBeUndefined();
    }
    expect(parseExitCode(' 3:0 ')).toEqual({ code: 3, signal: 0 });
    expect(slurmStatus(record('FAILED', 'weird')).failure).toMatchObject({ code: null, message: expect.stringContaining('exit field "weird"') });
    // A job's own code above 128 stays what it is.
    expect(exitCodeOf(parseExitCode('137:0'))).toBe(137);
  });
});

describe('sacct and squeue output', () => {
  it('parses sacct lines, first word of the state, array tasks one by one', () => {
    const records = parseSacct(
      ['101|COMPLETED|0:0|None|debug|00:10:00', '102|CANCELLED by 0|0:15|None|debug|00:10:00', '103_0|FAILED|2:0|NonZeroExitCode|debug|UNLIMITED', '103_[1-3%2]|PENDING|0:0|JobArrayTaskLimit|debug|UNLIMITED', ''].join('\n'),
    );
    expect(records.get('102')).toMatchObject({ state: 'CANCELLED', exitCode: '0:15' });
    expect(records.get('103_0')).toMatchObject({ state: 'FAILED', exitCode: '2:0', reason: 'NonZeroExitCode' });
    expect([...records.keys()]).toEqual(['101', '102', '103_0', '103_1', '103_2', '103_3']);
    expect(records.get('103_2')).toMatchObject({ jobId: '103_2', state: 'PENDING', reason: 'JobArrayTaskLimit', partition: 'debug' });
  });

  it('parses squeue lines and keeps the last line of a job', () => {
    const records = parseSqueue('7|PENDING|Priority|debug|5:00\n7|RUNNING|None|debug|5:00\n8_4|COMPLETED|None|short|1:00\n');
    expect(records.get('7')).toEqual({ jobId: '7', state: 'RUNNING', reason: 'None', partition: 'debug', timeLimit: '5:00' });
    expect(records.get('8_4')?.state).toBe('COMPLETED');
  });

  it('expands compressed array ids', () => {
    expect(expandJobId('5_[0-2,7,9-13:2%4]')).toEqual(['5_0', '5_1', '5_2', '5_7', '5_9', '5_11', '5_13']);
    expect(expandJobId('5_3')).toEqual(['5_3']);
    expect(expandJobId('5')).toEqual(['5']);
  });
});
