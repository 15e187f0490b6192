// A table made to fit a width: optional columns are left out when the others, cut to a
// readable width, would not fit; long columns are cut (with an ellipsis), down to a readable
// width first, further if need be; a line still too long (a very
// narrow terminal) is cut at the width. Without a width the table is printed whole.
import { formatTable } from './table.ts';

export interface FitColumn {
  header: string;
  cells: readonly string[];
  /** Where a cell too long loses characters: its end (default), or its start (to keep the end, e.g. a hash). Absent: never cut before the last resort. */
  cut?: 'end' | 'start';
  /** Cut no narrower than this while optional columns can still be left out (default 12). */
  readable?: number;
  /** Left out when the table does not fit; lower goes first. Absent: always shown. */
  optional?: number;
}

export interface FitTableOptions {
  columns: readonly FitColumn[];
  /** Columns a line may take; undefined: no limit. */
  width?: number;
  /** `…` or `...`. */
  ellipsis: string;
  /** Styles a cell after padding (its width is measured without the style); row -1 is the header. */
  paint?: (header: string, text: string, row: number) => string;
}

const GAP = 2;
const DEFAULT_READABLE = 12;

export function fitTable(options: FitTableOptions): string {
  const { ellipsis } = options;
  let columns = options.columns.map((column) => ({ ...column, size: natural(column) }));
  const width = options.width;
  if (width !== undefined) {
    const excess = () => columns.reduce((sum, column) => sum + column.size, 0) + GAP * (columns.length - 1) - width;
    const floor = (column: (typeof columns)[number], readable: boolean) =>
      column.cut === undefined ? column.size : Math.min(column.size, Math.max(readable ? (column.readable ?? DEFAULT_READABLE) : 0, column.header.length, ellipsis.length + 1));
    // Optional columns go first when the others, cut to a readable width, still do not fit.
    const readableExcess = () => columns.reduce((sum, column) => sum + floor(column, true), 0) + GAP * (columns.length - 1) - width;
    for (const dropped of columns.filter((column) => column.optional !== undefined).sort((a, b) => a.optional! - b.optional!)) {
      if (readableExcess() <= 0) break;
      columns = columns.filter((column) => column !== dropped);
    }
    shrink(columns, excess, (column) => floor(column, true));
    shrink(columns, excess, (column) => floor(column, false));
  }
  const rows = Array.from({ length: options.columns[0]?.cells.length ?? 0 }, (_, row) => columns.map((column) => cutText(column.cells[row] ?? '', column.size, column.cut ?? 'end', ellipsis)));
  const header = columns.map((column) => cutText(column.header, column.size, 'end', ellipsis));
  const names = columns.map((column) => column.header);
  const paint = options.paint;
  const table = formatTable({ header, rows, paint: paint && ((column, text, row) => paint(names[column]!, text, row)) });
  if (width === undefined) return table;
  // The last resort: columns that cannot be cut (or a width narrower than the headers).
  return table
    .split('\n')
    .map((line) => {
      const plain = line.replace(SGR, '');
      return plain.length > width ? cutText(plain, width, 'end', ellipsis) : line;
    })
    .join('\n');
}

/** Cuts `text` to `size` columns, the ellipsis taking the place of what was cut. */
export function cutText(text: string, size: number, where: 'end' | 'start', ellipsis: string): string {
  if (text.length <= size) return text;
  if (size <= ellipsis.length) return ellipsis.slice(0, size);
  const kept = size - ellipsis.length;
  return where === 'end' ? `${text.slice(0, kept)}${ellipsis}` : `${ellipsis}${text.slice(text.length - kept)}`;
}

function natural(column: FitColumn): number {
  return Math.max(column.header.length, ...column.cells.map((cell) => cell.length));
}

/** Takes one character at a time from the widest column that can still give one, until nothing is in excess. */
function shrink<C extends FitColumn & { size: number }>(columns: C[], excess: () => number, floor: (column: C) => number): void {
  let over = excess();
  while (over > 0) {
    const widest = columns.filter((column) => column.cut !== undefined && column.size > floor(column)).sort((a, b) => b.size - a.size)[0];
    if (!widest) return;
    widest.size--;
    over--;
  }
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;
