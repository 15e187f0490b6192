import { describe, expect, it } from 'vitest';
import { cutText, fitTable, type FitColumn } from './fitTable.ts';

const columns: FitColumn[] = [
  { header: 'JOB', cells: ['a-very-long-task-identifier/3fa2c1d0e4b5', 'eval/9b8e7f6a5d4c'], cut: 'start', readable: 20 },
  { header: 'STATE', cells: ['failed', 'done'] },
  { header: 'HOST', cells: ['gpu-node-17.example.org', 'node2'], cut: 'end', readable: 8, optional: 1 },
  { header: 'DETAIL', cells: ['failed (exit 1): a message that goes on and on and on', ''], cut: 'end', readable: 16 },
];

describe('fitTable', () => {
  it('prints the table whole without a width', () => {
    const table = fitTable({ columns, ellipsis: '...' });
    expect(table).toContain('a-very-long-task-identifier/3fa2c1d0e4b5');
    expect(table).toContain('a message that goes on and on and on');
  });

  it('cuts long columns (the job name at its start, keeping the hash) before leaving an optional one out', () => {
    const lines = fitTable({ columns, width: 70, ellipsis: '...' }).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(70);
    expect(lines[0]).toMatch(/^JOB\s+STATE\s+HOST\s+DETAIL$/);
    expect(lines[1]).toMatch(/^\.\.\.[a-z-]*\/3fa2c1d0e4b5 {2}failed/);
    expect(lines[1]).toMatch(/\.\.\.$/);
  });

  it('leaves optional columns out when the others, cut to a readable width, would not fit, then cuts the line as a last resort', () => {
    const narrow = fitTable({ columns, width: 50, ellipsis: '...' }).split('\n');
    expect(narrow[0]).toMatch(/^JOB\s+STATE\s+DETAIL$/);
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(50);
    for (const line of fitTable({ columns, width: 12, ellipsis: '…' }).split('\n')) expect(line.length).toBeLessThanOrEqual(12);
  });

  it('measures widths without the colors it paints', () => {
    const lines = fitTable({ columns, width: 70, ellipsis: '...', paint: (header, text, row) => (header === 'STATE' && row >= 0 ? `\u001b[31m${text}\u001b[39m` : text) }).split('\n');
    const plain = fitTable({ columns, width: 70, ellipsis: '...' }).split('\n');
    expect(lines.map((line) => line.replaceAll('\u001b[31m', '').replaceAll('\u001b[39m', ''))).toEqual(plain);
  });
});

describe('cutText', () => {
  it('puts the ellipsis where text was cut', () => {
    expect(cutText('abcdefgh', 5, 'end', '...')).toBe('ab...');
    expect(cutText('abcdefgh', 5, 'start', '…')).toBe('…efgh');
    expect(cutText('abc', 5, 'end', '...')).toBe('abc');
  });
});
