// Loader hooks of module-log.mjs (they run on Node's loader thread, same pid).
import { appendFileSync } from 'node:fs';

let log;

export function initialize(data) {
  log = data?.log;
}

export async function load(url, context, nextLoad) {
  if (log) appendFileSync(log, `${process.pid} ${url}\n`);
  return nextLoad(url, context);
}
