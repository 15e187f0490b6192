// A YAML syntax error told the way Baton tells file errors: where (line and column, which
// the caller puts after the file name), what, and the yaml package's excerpt. For a quote
// or a flow collection (`[`, `{`) never closed, yaml reports the place where it gave up,
// often the end of the file, lines below the mistake: the message then also names where
// the quote or bracket opened.
import { lazyModule } from './lazyModule.ts';

const yaml = lazyModule<typeof import('yaml')>('yaml', { vendored: true });

/** What is read of the yaml package's YAMLError (its type is not named here: yaml is vendored, see lazyModule.ts). */
export interface YamlErrorLike {
  code: string;
  message: string;
  /** Offsets in the text. */
  pos: [number, number];
  linePos?: [{ line: number; col: number }] | [{ line: number; col: number }, { line: number; col: number }];
}

export interface YamlSyntaxError {
  /** 1-based, where yaml reports the error; undefined when it gives no position. */
  line?: number;
  col?: number;
  /** What is wrong (without yaml's own "at line L, column C"), the opening note, then the excerpt, indented. */
  message: string;
}

export function describeYamlSyntaxError(options: { error: YamlErrorLike; text: string }): YamlSyntaxError {
  const { error, text } = options;
  const [first = '', ...excerpt] = error.message.split('\n');
  const reason = first.replace(/ at line \d+, column \d+:?$/, '');
  const position = error.linePos?.[0];
  const opened = unclosedOpener({ error, text });
  const note = opened && opened.line !== position?.line ? ` (the ${opened.what} opened at line ${opened.line}, column ${opened.col})` : '';
  const context = excerpt.filter((line) => line.trim() !== '');
  const message = `${reason}${note}${context.length > 0 ? `\n${context.map((line) => `    ${line}`).join('\n')}` : ''}`;
  return position ? { line: position.line, col: position.col, message } : { message };
}

interface Opener {
  what: 'quote' | '[' | '{';
  offset: number;
}

/** The last quote or flow collection left open before the error, for the errors an unclosed one causes. */
function unclosedOpener(options: { error: YamlErrorLike; text: string }): { what: Opener['what']; line: number; col: number } | undefined {
  const { error, text } = options;
  const quote = error.code === 'MISSING_CHAR' && /quote/.test(error.message);
  const flow = /\bFlow (sequence|map|collection)\b/.test(error.message) || (error.code === 'MISSING_CHAR' && /[\]}]/.test(error.message));
  if (!quote && !flow) return undefined;
  const lines = new (yaml().LineCounter)();
  const openers: Opener[] = [];
  for (const token of new (yaml().Parser)(lines.addNewLine).parse(text)) collectOpeners(token, openers);
  openers.sort((a, b) => a.offset - b.offset);
  const before = openers.filter((opener) => (quote ? opener.what === 'quote' : opener.what !== 'quote') && opener.offset <= error.pos[0]);
  const last = before.at(-1);
  if (!last) return undefined;
  const { line, col } = lines.linePos(last.offset);
  return { what: last.what, line, col };
}

/** Walks a CST token: quoted scalars without their closing quote, flow collections without their closing bracket. */
function collectOpeners(node: unknown, openers: Opener[]): void {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const item of node) collectOpeners(item, openers);
    return;
  }
  const token = node as { type?: string; offset?: number; source?: string; start?: { source?: string; offset: number }; end?: { source?: string }[] };
  if ((token.type === 'double-quoted-scalar' || token.type === 'single-quoted-scalar') && typeof token.source === 'string' && typeof token.offset === 'number') {
    const mark = token.source[0]!;
    if (token.source.length < 2 || !token.source.endsWith(mark)) openers.push({ what: 'quote', offset: token.offset });
  }
  if (token.type === 'flow-collection' && token.start && (token.start.source === '[' || token.start.source === '{')) {
    const closing = token.start.source === '[' ? ']' : '}';
    if (!token.end?.some((end) => end.source === closing)) openers.push({ what: token.start.source, offset: token.start.offset });
  }
  for (const [key, value] of Object.entries(token)) if (key !== 'start' || token.type !== 'flow-collection') collectOpeners(value, openers);
}
