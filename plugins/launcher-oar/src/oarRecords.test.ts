import { describe, expect, it } from 'vitest';
import { parseJobIds, parseOarstat } from './oarRecords.ts';
import { oarStatus } from './oarStates.ts';

// `oarstat -f -J -j 2 -j 3` on OAR 2.5.9: job 2 ran `exit 3`, job 3 was cancelled with oardel while waiting.
const OARSTAT_FULL = `{
   "2" : {
      "Job_Id" : 2,
      "job_user" : "batontest",
      "owner" : "batontest",
      "state" : "Terminated",
      "name" : "t1",
      "command" : "exec /bin/sh /home/batontest/ws/jobs/t1/job.sh",
      "queue" : "default",
      "project" : "default",
      "types" : [],
      "jobType" : "PASSIVE",
      "launchingDirectory" : "/home/batontest/ws/jobs/t1",
      "array_id" : 2,
      "array_index" : 1,
      "exit_code" : 768,
      "walltime" : 300,
      "submissionTime" : 1796163428,
      "startTime" : 1796163429,
      "stopTime" : 1796163430,
      "scheduledStart" : null,
      "assigned_network_address" : [
         "vm"
      ],
      "assigned_resources" : [
         1
      ],
      "message" : "R=1,W=0:5:0,J=B,N=t1 (Karma=0.000,quota_ok)",
      "initial_request" : "oarsub --name=t1 -l walltime=0:05:00 exec /bin/sh job.sh",
      "dependencies" : [],
      "events" : [
         {
            "to_check" : "NO",
            "type" : "SWITCH_INTO_TERMINATE_STATE",
            "job_id" : 2,
            "date" : 1796163430,
            "event_id" : 2,
            "description" : "[bipbip 2] Ask to change the job state"
         }
      ]
   },
   "3" : {
      "Job_Id" : 3,
      "owner" : "batontest",
      "state" : "Error",
      "name" : "t2",
      "exit_code" : null,
      "walltime" : 300,
      "startTime" : 0,
      "stopTime" : 1796163435,
      "scheduledStart" : 1796163800,
      "assigned_network_address" : [],
      "message" : "R=1,W=0:5:0,J=B,N=t2 (Karma=0.000,quota_ok)",
      "events" : [
         { "to_check" : "NO", "type" : "FRAG_JOB_REQUEST", "job_id" : 3, "date" : 1796163433, "event_id" : 3, "description" : "User batontest requested to frag the job 3" },
         { "to_check" : "NO", "type" : "SEND_KILL_JOB", "job_id" : 3, "date" : 1796163433, "event_id" : 4, "description" : "[Leon] Send kill signal to oarexec on vm for the job 3" },
         { "to_check" : "NO", "type" : "SWITCH_INTO_ERROR_STATE", "job_id" : 3, "date" : 1796163435, "event_id" : 5, "description" : "[bipbip 3] Ask to change the job state" }
      ]
   }
}
`;

describe('parseJobIds', () => {
  it("reads the job id of an oarsub that printed admission rules' chatter first", () => {
    expect(parseJobIds('[ADMISSION RULE] Modify resource description with type constraints\nOAR_JOB_ID=2\n')).toEqual(['2']);
    expect(parseJobIds('[ADMISSION RULE] Set default walltime to 7200.\r\nOAR_JOB_ID=17\r\n')).toEqual(['17']);
  });

  it("reads an array's ids in order, and not its array id", () => {
    const stdout = '[ADMISSION RULE] Modify resource description with type constraints\nOAR_JOB_ID=4\nOAR_JOB_ID=5\nOAR_JOB_ID=6\nOAR_ARRAY_ID=4\n';
    expect(parseJobIds(stdout)).toEqual(['4', '5', '6']);
  });

  it('finds no id in a refusal, nor in a line that only mentions one', () => {
    expect(parseJobIds('[ADMISSION RULE] Error: the queue nosuchqueue does not exist\n')).toEqual([]);
    expect(parseJobIds('# INFO: OAR_JOB_ID=12 was already taken\nOAR_JOB_ID=x\n')).toEqual([]);
    expect(parseJobIds('')).toEqual([]);
  });
});

describe('parseOarstat', () => {
  it('reads nothing at all (no job matched) as no record', () => {
    expect(parseOarstat('')).toEqual(new Map());
    expect(parseOarstat('\n  \n')).toEqual(new Map());
  });

  it('reads the full records of oarstat -f -J by job id', () => {
    const records = parseOarstat(OARSTAT_FULL);
    expect([...records.keys()]).toEqual(['2', '3']);
    expect(records.get('2')).toEqual({
      jobId: '2',
      state: 'Terminated',
      exitCode: 768,
      message: 'R=1,W=0:5:0,J=B,N=t1 (Karma=0.000,quota_ok)',
      events: [{ type: 'SWITCH_INTO_TERMINATE_STATE', description: '[bipbip 2] Ask to change the job state', date: 1796163430 }],
      walltime: 300,
      name: 't1',
      startTime: 1796163429,
      stopTime: 1796163430,
      hosts: ['vm'],
    });
    expect(records.get('3')).toMatchObject({ jobId: '3', state: 'Error', exitCode: null, scheduledStart: 1796163800, startTime: 0, hosts: [] });
    expect(records.get('3')!.events.map((event) => event.type)).toEqual(['FRAG_JOB_REQUEST', 'SEND_KILL_JOB', 'SWITCH_INTO_ERROR_STATE']);
    // What the launcher then reports of them.
    expect(oarStatus(records.get('2')!).failure).toMatchObject({ code: 3, reason: 'failed' });
    expect(oarStatus(records.get('3')!).failure).toMatchObject({ reason: 'cancelled' });
  });

  it('reads the short records of oarstat -J --sql, and skips entries without a state', () => {
    const records = parseOarstat(JSON.stringify({ 7: { Job_Id: 7, state: 'Waiting', name: 'x' }, 8: { Job_Id: 8 }, 9: 'junk' }));
    expect([...records.keys()]).toEqual(['7']);
    expect(records.get('7')).toEqual({ jobId: '7', state: 'Waiting', exitCode: null, events: [], name: 'x' });
  });

  it('says clearly when oarstat did not print JSON, with the start of what it printed', () => {
    expect(() => parseOarstat('Cannot connect to database\n')).toThrow(/oarstat did not print JSON .*"Cannot connect to database"/);
    expect(() => parseOarstat('[1, 2]')).toThrow(/not an object of jobs/);
  });
});
