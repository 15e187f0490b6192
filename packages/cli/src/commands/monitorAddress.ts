// What the user is told when a monitor starts: its URL with the token (as Jupyter prints
// it), and a warning when other machines can reach it.
import { hostname } from 'node:os';
import { isLoopbackHost, type Monitor } from '@baton/monitor';

export function printMonitorAddress(options: { monitor: Monitor; print: (line: string, stream: 'stdout' | 'stderr') => void }): void {
  const { monitor, print } = options;
  print(`Monitor: ${monitor.url}`, 'stdout');
  if (!isLoopbackHost(monitor.host)) {
    print(
      `warning: the monitor listens on ${monitor.host}: other machines can reach it (every route still needs its token, which plain HTTP sends in clear)\n` +
        `  fix: leave --host out (127.0.0.1: this machine only) and reach it through an SSH tunnel: ssh -L ${monitor.port}:127.0.0.1:${monitor.port} ${hostname()}`,
      'stderr',
    );
  }
}
