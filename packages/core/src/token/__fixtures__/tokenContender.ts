// Run as its own process by counterToken.test.ts: repeatedly takes one unit of a
// token, logs "enter"/"exit" around a short hold, then releases it.
// Usage: node --import tsx tokenContender.ts <workspace> <token> <total> <log> <id> <iterations>
import { appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CounterToken } from '../counterToken.ts';

const [workspacePath = '', name = '', total = '', logPath = '', id = '', iterations = ''] = process.argv.slice(2);
const token = new CounterToken({ name, total: Number(total), workspacePath });

for (let i = 0; i < Number(iterations); i++) {
  const holder = { hash: `${id}-${i}`, directory: join(workspacePath, 'jobs', id, String(i)), pid: process.pid, host: hostname() };
  while (!(await token.tryAcquire(holder, 1))) await sleep(2 + Math.random() * 5);
  // The log's line order is the true order: "exit" is written before the release, "enter" after the acquire.
  await appendFile(logPath, `enter ${id} ${Date.now()}\n`);
  await sleep(50);
  await appendFile(logPath, `exit ${id} ${Date.now()}\n`);
  await token.release(holder);
}
