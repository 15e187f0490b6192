// One live line at the bottom of a terminal (log-update), with other lines printed above it.
// Off a terminal there is no live line: printed lines just go out (and log-update is not loaded).

export interface StatusLine {
  /** Replaces the live line (ignored off a terminal). */
  update(text: string): void;
  /** Prints a whole line above the live line, on stdout or stderr. */
  print(line: string, stream?: 'stdout' | 'stderr'): void;
  /** Removes the live line for good. */
  close(): void;
}

export function plainStatusLine(): StatusLine {
  return {
    update: () => undefined,
    print: (line, stream = 'stdout') => void process[stream].write(`${line}\n`),
    close: () => undefined,
  };
}

export async function createStatusLine(options: { interactive: boolean }): Promise<StatusLine> {
  if (!options.interactive) return plainStatusLine();
  const { createLogUpdate } = await import('log-update');
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
