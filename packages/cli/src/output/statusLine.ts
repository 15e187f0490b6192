// One live line at the bottom of a terminal (log-update), with other lines printed above it.
// Off a terminal there is no live line: printed lines just go out.
import { createLogUpdate } from 'log-update';

export interface StatusLine {
  /** Replaces the live line (ignored off a terminal). */
  update(text: string): void;
  /** Prints a whole line above the live line, on stdout or stderr. */
  print(line: string, stream?: 'stdout' | 'stderr'): void;
  /** Removes the live line for good. */
  close(): void;
}

export function createStatusLine(options: { interactive: boolean }): StatusLine {
  if (!options.interactive) {
    return {
      update: () => undefined,
      print: (line, stream = 'stdout') => void process[stream].write(`${line}\n`),
      close: () => undefined,
    };
  }
  const render = createLogUpdate(process.stdout, { showCursor: true });
  let current = '';
  return {
    update(text) {
      current = text;
      render(text);
    },
    print(line, stream = 'stdout') {
      render.clear();
      process[stream].write(`${line}\n`);
      if (current) render(current);
    },
    close() {
      render.clear();
      render.done();
      current = '';
    },
  };
}
