// What the CLI's output may look like on a stream: colors or not (NO_COLOR, FORCE_COLOR, a
// terminal), Unicode symbols or ASCII (pipes, files, TERM=dumb and the Linux console get
// ASCII), and how wide a line may be. Every colored word and every symbol the CLI prints
// goes through here, so that `baton ... | grep` and `NO_COLOR=1 baton ...` get plain text.

export interface OutputStyle {
  color: boolean;
  unicode: boolean;
  /** `✗` or `x`: a failed job, a service that stopped. */
  cross: string;
  /** Between counts on the progress line: ` · ` or ` | `. */
  separator: string;
  /** Marks text cut short: `…` or `...`. */
  ellipsis: string;
  /** Before each quoted line of a job's output: `│` or `|`. */
  bar: string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
}

/** What a stream is, as far as styling goes (a tty.WriteStream, or a pipe or file: no isTTY). */
export interface StyledStream {
  isTTY?: boolean;
  columns?: number;
}

type Environment = Record<string, string | undefined>;

/** The style of output written to `stream` (process.stdout by default). */
export function outputStyle(stream: StyledStream = process.stdout, env: Environment = process.env): OutputStyle {
  return makeStyle({ color: colorEnabled(stream, env), unicode: unicodeEnabled(stream, env) });
}

/** A style fixed by the caller (tests, or text whose destination is known). */
export function makeStyle(options: { color: boolean; unicode: boolean }): OutputStyle {
  const paint = (open: number, close: number) => (options.color ? (text: string) => `\u001b[${open}m${text}\u001b[${close}m` : (text: string) => text);
  return {
    ...options,
    cross: options.unicode ? '✗' : 'x',
    separator: options.unicode ? ' · ' : ' | ',
    ellipsis: options.unicode ? '…' : '...',
    bar: options.unicode ? '│' : '|',
    red: paint(31, 39),
    yellow: paint(33, 39),
    green: paint(32, 39),
    cyan: paint(36, 39),
    dim: paint(2, 22),
  };
}

/**
 * FORCE_COLOR (any value but 0 or false) turns colors on, even into a pipe; then NO_COLOR
 * (any non-empty value, https://no-color.org) turns them off; otherwise a terminal that is
 * not TERM=dumb gets them.
 */
export function colorEnabled(stream: StyledStream, env: Environment = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** A terminal that can draw more than ASCII: not a pipe or file, not TERM=dumb, not the Linux console, not a non-UTF-8 locale. */
export function unicodeEnabled(stream: StyledStream, env: Environment = process.env): boolean {
  if (stream.isTTY !== true || env.TERM === 'dumb' || env.TERM === 'linux') return false;
  // The first of these that is set is the locale in force (as in the C library).
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG;
  return locale === undefined || locale === '' || /utf-?8/i.test(locale);
}

/**
 * How many columns a line may take: COLUMNS when set (a number), else the terminal's width;
 * undefined off a terminal (a pipe or a file): lines are not cut, so that `grep` and `awk`
 * see everything.
 */
export function outputWidth(stream: StyledStream = process.stdout, env: Environment = process.env): number | undefined {
  const fromEnv = Number(env.COLUMNS);
  if (env.COLUMNS !== undefined && Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return stream.isTTY === true && (stream.columns ?? 0) > 0 ? stream.columns : undefined;
}
