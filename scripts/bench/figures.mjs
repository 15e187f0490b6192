// Helpers the benchmark scripts share: medians, durations, the machine.
import { readFileSync } from 'node:fs';

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function format(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function cpuModel() {
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return match ? match[1] : 'unknown CPU';
}

/**
 * CPU time this process has used so far, in ms: `all` over every thread (worker threads
 * and V8's compiler and collector threads included, ended ones too), `main` the main
 * thread's alone (/proc/thread-self/schedstat; undefined where it cannot be read).
 * Called from the main thread.
 */
export function cpuTimes() {
  const usage = process.cpuUsage();
  let main;
  try {
    main = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    main = undefined;
  }
  return { all: (usage.user + usage.system) / 1000, main };
}
