import type { LaunchStatus } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { decodeWaitStatus, exitCodeOf, knownOarStates, oarStatus, type OarEvent, type OarRecord } from './oarStates.ts';

const record = (state: string, extra: Partial<OarRecord> = {}): OarRecord => ({ jobId: '42', state, exitCode: null, events: [], ...extra });

// Events as OAR 2.5.9 logged them for a job cancelled with oardel (job 3) and one killed at its walltime (job 89).
const OARDEL_EVENTS: OarEvent[] = [
  { type: 'FRAG_JOB_REQUEST', description: 'User batontest requested to frag the job 3', date: 1796163433 },
  { type: 'SEND_KILL_JOB', description: '[Leon] Send kill signal to oarexec on vm for the job 3', date: 1796163433 },
  { type: 'SWITCH_INTO_ERROR_STATE', description: '[bipbip 3] Ask to change the job state', date: 1796163435 },
];
const WALLTIME_EVENTS: OarEvent[] = [
  { type: 'FRAG_JOB_REQUEST', description: 'User root requested to frag the job 89', date: 1796163817 },
  { type: 'WALLTIME', description: '[sarko] Job [89] from 1796163787 with 20; current time=1796163817 (Elapsed)', date: 1796163817 },
  { type: 'SEND_KILL_JOB', description: '[Leon] Send kill signal to oarexec on vm for the job 89', date: 1796163817 },
  { type: 'SWITCH_INTO_ERROR_STATE', description: '[bipbip 89] Ask to change the job state', date: 1796163819 },
];

describe('oarStatus', () => {
  // The whole table: every OAR state, and what Baton makes of it (Terminated and Error: below).
  const table: [string, LaunchStatus][] = [
    ['Waiting', { state: 'queued' }],
    ['Hold', { state: 'queued', detail: 'held by OAR (release it with: oarresume 42)' }],
    ['toAckReservation', { state: 'queued', detail: 'reservation waiting for acknowledgement' }],
    ['toLaunch', { state: 'queued', detail: 'about to be launched' }],
    ['Launching', { state: 'queued', detail: 'being launched on its node' }],
    ['Running', { state: 'running' }],
    ['Suspended', { state: 'running', detail: 'suspended by OAR' }],
    ['Resuming', { state: 'running', detail: 'being resumed by OAR' }],
    ['Finishing', { state: 'running' }],
    ['toError', { state: 'running', detail: 'ending in error' }],
    ['Terminated', { state: 'finished' }],
  ];

  it.each(table)('maps %s', (state, expected) => {
    expect(oarStatus(record(state, state === 'Terminated' ? { exitCode: 0 } : {}))).toEqual(expected);
  });

  it('knows exactly the states this file tests, and reports an unknown one by name', () => {
    expect([...knownOarStates()].sort()).toEqual([...table.map(([state]) => state), 'Error'].sort());
    expect(oarStatus(record('Frobnicated'))).toEqual({ state: 'unknown', detail: expect.stringContaining('Frobnicated') });
    expect(oarStatus(record('Frobnicated')).detail).toContain('42');
  });

  describe('Terminated: the exit code from the raw wait status', () => {
    it.each([
      [768, 3, 'exit code 3'],
      [256, 1, 'exit code 1'],
      [9, 137, 'killed by signal 9 (SIGKILL)'],
      [15, 143, 'killed by signal 15 (SIGTERM)'],
    ])('wait status %d fails the job with code %d', (exitCode, code, how) => {
      const status = oarStatus(record('Terminated', { exitCode }));
      expect(status).toEqual({ state: 'finished', failure: { code, reason: 'failed', message: expect.stringContaining('42') } });
      expect(status.failure!.message).toContain(how);
    });

    it('finishes without failure on 0, and leaves an unknown status to the markers', () => {
      expect(oarStatus(record('Terminated', { exitCode: 0 }))).toEqual({ state: 'finished' });
      expect(oarStatus(record('Terminated', { exitCode: null }))).toEqual({ state: 'finished' });
    });
  });

  describe('Error: told apart by its events', () => {
    it("is a cancel when the user's oardel asked for it", () => {
      const status = oarStatus(record('Error', { jobId: '3', events: OARDEL_EVENTS }));
      expect(status).toEqual({ state: 'finished', failure: { code: null, reason: 'cancelled', message: expect.stringContaining('User batontest requested to frag the job 3') } });
    });

    it("is a timeout when OAR's own frag request comes with the WALLTIME event", () => {
      const status = oarStatus(record('Error', { jobId: '89', walltime: 20, events: WALLTIME_EVENTS }));
      expect(status).toEqual({ state: 'finished', failure: { code: null, reason: 'timeout', message: 'OAR job 89 reached its walltime (0:00:20)' } });
      expect(oarStatus(record('Error', { jobId: '89', events: WALLTIME_EVENTS })).failure).toMatchObject({ reason: 'timeout', message: 'OAR job 89 reached its walltime' });
    });

    it("is a timeout when OAR's own frag request is stamped a second before its WALLTIME event", () => {
      const [frag, walltime, ...rest] = WALLTIME_EVENTS;
      const events = [{ ...frag!, date: frag!.date! - 1 }, walltime!, ...rest];
      expect(oarStatus(record('Error', { jobId: '89', events })).failure).toMatchObject({ reason: 'timeout' });
    });

    it("is a cancel when an administrator's oardel ended it, with no walltime reached", () => {
      const events = [{ type: 'FRAG_JOB_REQUEST', description: 'User root requested to frag the job 7', date: 1796163810 }, ...OARDEL_EVENTS.slice(1)];
      expect(oarStatus(record('Error', { jobId: '7', events })).failure).toMatchObject({ reason: 'cancelled', message: expect.stringContaining('User root') });
    });

    it('is a preemption when OAR killed a besteffort job for another one', () => {
      const events = [
        { type: 'BESTEFFORT_KILL', description: '[MetaSched] kill the besteffort job 12', date: 1796163810 },
        { type: 'FRAG_JOB_REQUEST', description: 'User oar requested to frag the job 12', date: 1796163810 },
        ...OARDEL_EVENTS.slice(1),
      ];
      expect(oarStatus(record('Error', { jobId: '12', events })).failure).toMatchObject({ reason: 'preempted', message: expect.stringContaining('besteffort') });
    });

    it('is a cancel when the user asked before the walltime came', () => {
      const events = [{ type: 'FRAG_JOB_REQUEST', description: 'User batontest requested to frag the job 89', date: 1796163810 }, ...WALLTIME_EVENTS.slice(1)];
      expect(oarStatus(record('Error', { jobId: '89', events })).failure).toMatchObject({ reason: 'cancelled', message: expect.stringContaining('User batontest') });
    });

    it('is a failure naming the event of a launch error', () => {
      const prologue = oarStatus(
        record('Error', {
          events: [
            { type: 'PROLOGUE_ERROR', description: '[bipbip 42] error of oarexec prologue ', date: 1796163500 },
            { type: 'SWITCH_INTO_ERROR_STATE', description: '[bipbip 42] Ask to change the job state', date: 1796163501 },
          ],
        }),
      );
      expect(prologue).toEqual({ state: 'finished', failure: { code: null, reason: 'failed', message: 'OAR job 42 ended in error: PROLOGUE_ERROR: [bipbip 42] error of oarexec prologue' } });
      const oarexec = oarStatus(
        record('Error', {
          events: [
            { type: 'EXIT_VALUE_OAREXEC', description: '[bipbip 42] Error of oarexec, exit value = 12; the job 42 is in Error and the node vm is Suspected', date: 1796163500 },
            { type: 'SWITCH_INTO_ERROR_STATE', description: '[bipbip 42] Ask to change the job state', date: 1796163501 },
          ],
        }),
      );
      expect(oarexec.failure).toMatchObject({ reason: 'failed', message: expect.stringMatching(/^OAR job 42 ended in error: EXIT_VALUE_OAREXEC: .*exit value = 12/) });
    });

    it('points to oarstat when no event says why', () => {
      for (const events of [[], [{ type: 'SWITCH_INTO_ERROR_STATE', description: '[bipbip 42] Ask to change the job state', date: 1 }]]) {
        const status = oarStatus(record('Error', { events }));
        expect(status.failure).toMatchObject({ code: null, reason: 'failed' });
        expect(status.failure!.message).toContain('oarstat -f -j 42');
      }
    });
  });

  describe('why a job waits', () => {
    it("hides OAR's scheduler summary, whatever follows the job name, and shows any other message", () => {
      expect(oarStatus(record('Waiting', { message: 'R=1,W=0:5:0,J=B,N=t2 (Karma=0.000,quota_ok)' }))).toEqual({ state: 'queued' });
      // A real one with types; and one with a queue and a project (format_job_message_text).
      expect(oarStatus(record('Waiting', { message: 'R=26,W=72:0:0,J=B,N=random_model_2048,T=besteffort (Karma=0.145,quota_ok)' }))).toEqual({ state: 'queued' });
      expect(oarStatus(record('Waiting', { message: 'R=4,W=2:0:0,J=B,N=train-array-0a1b2c3d,Q=gpu,P=vision,T=idempotent' }))).toEqual({ state: 'queued' });
      expect(oarStatus(record('Waiting', { message: 'Not enough resources for the job (max 8 cores)' }))).toEqual({
        state: 'queued',
        detail: 'Not enough resources for the job (max 8 cores)',
      });
      expect(oarStatus(record('toLaunch', { message: 'Scheduled on vm' }))).toEqual({ state: 'queued', detail: 'about to be launched: Scheduled on vm' });
    });

    it('says when OAR expects to start it, and nothing once that time has passed', () => {
      const later = Math.floor(Date.now() / 1000) + 3600;
      const status = oarStatus(record('Waiting', { message: 'R=1,W=0:5:0,J=B,N=t2 (Karma=0.000,quota_ok)', scheduledStart: later }));
      expect(status).toEqual({ state: 'queued', detail: `expected to start at ${new Date(later * 1000).toISOString()}` });
      // A job being launched has its start time behind it: "expected to start" at a past time says nothing.
      const launching = oarStatus(record('Launching', { message: 'R=1,W=0:5:0,J=B,N=t2 (Karma=0.000,quota_ok)', scheduledStart: Math.floor(Date.now() / 1000) - 5 }));
      expect(launching).toEqual({ state: 'queued', detail: 'being launched on its node' });
    });
  });
});

describe('wait statuses', () => {
  it('decodes exit codes and killing signals', () => {
    expect(decodeWaitStatus(0)).toEqual({ code: 0 });
    expect(decodeWaitStatus(768)).toEqual({ code: 3 });
    expect(decodeWaitStatus(0xff00)).toEqual({ code: 255 });
    expect(decodeWaitStatus(9)).toEqual({ signal: 9 });
    // The core-dump bit does not change the signal.
    expect(decodeWaitStatus(0x80 | 11)).toEqual({ signal: 11 });
    expect(exitCodeOf({ code: 3 })).toBe(3);
    expect(exitCodeOf({ signal: 9 })).toBe(137);
    expect(exitCodeOf({ signal: 15 })).toBe(143);
    expect(exitCodeOf(undefined)).toBeNull();
  });

  it('guesses nothing from what is not the status of an ended process', () => {
    for (const status of [-1, -768, 0x10000, 1e9, 768.5, Number.NaN, Number.POSITIVE_INFINITY, null, undefined]) {
      expect(decodeWaitStatus(status), String(status)).toBeUndefined();
    }
    // 0x7f in the low bits: stopped (WIFSTOPPED), not ended; no signal is numbered above 64.
    expect(decodeWaitStatus(0x7f)).toBeUndefined();
    expect(decodeWaitStatus(0x137f)).toBeUndefined();
    expect(decodeWaitStatus(65)).toBeUndefined();
    expect(oarStatus(record('Terminated', { exitCode: 0x137f }))).toEqual({ state: 'finished' });
  });
});
