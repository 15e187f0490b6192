// A process that starts a process service and then ends the way the test says:
// `exit` (process.exit, skipping any cleanup) or `hang` (until it is killed).
// Prints `{"pid": <service pid>, "url": ...}` once the service serves.
import { ProcessWebService } from '../processWebService.ts';

const [how = 'hang', keep = 'no'] = process.argv.slice(2);
const service = new ProcessWebService({
  id: 'owned',
  command: ['python3', '-m', 'http.server', '{port}', '--bind', '127.0.0.1'],
  keep: keep === 'keep',
});
await service.start();
process.stdout.write(`${JSON.stringify({ pid: service.pid, url: service.url })}\n`);
if (how === 'exit') process.exit(0);
setInterval(() => undefined, 1000);
