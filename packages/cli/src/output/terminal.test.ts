import { describe, expect, it } from 'vitest';
import { colorEnabled, outputStyle, outputWidth, unicodeEnabled } from './terminal.ts';

const tty = { isTTY: true, columns: 120 };
const pipe = {};

describe('colorEnabled', () => {
  it('colors a terminal, not a pipe nor TERM=dumb', () => {
    expect(colorEnabled(tty, { TERM: 'xterm-256color' })).toBe(true);
    expect(colorEnabled(pipe, { TERM: 'xterm-256color' })).toBe(false);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('NO_COLOR (any non-empty value) turns colors off; FORCE_COLOR turns them on, even in a pipe, and wins (as in Node)', () => {
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(tty, { FORCE_COLOR: 'false' })).toBe(false);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
  });
});

describe('unicodeEnabled', () => {
  it('draws Unicode on a terminal with a UTF-8 locale (or none said), ASCII elsewhere', () => {
    expect(unicodeEnabled(tty, { TERM: 'xterm', LANG: 'en_US.UTF-8' })).toBe(true);
    expect(unicodeEnabled(tty, { TERM: 'xterm' })).toBe(true);
    expect(unicodeEnabled(tty, { TERM: 'xterm', LANG: 'en_US.UTF-8', LC_ALL: 'C' })).toBe(false);
    expect(unicodeEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(unicodeEnabled(tty, { TERM: 'linux' })).toBe(false);
    expect(unicodeEnabled(pipe, { TERM: 'xterm', LANG: 'C.UTF-8' })).toBe(false);
  });

  it('gives ASCII symbols and no escape codes to a pipe', () => {
    const style = outputStyle(pipe, {});
    expect([style.cross, style.separator, style.ellipsis, style.bar, style.red('failed')]).toEqual(['x', ' | ', '...', '|', 'failed']);
  });
});

describe('outputWidth', () => {
  it('is COLUMNS when set, else the terminal width; none off a terminal', () => {
    expect(outputWidth(tty, { COLUMNS: '80' })).toBe(80);
    expect(outputWidth(pipe, { COLUMNS: '80' })).toBe(80);
    expect(outputWidth(tty, {})).toBe(120);
    expect(outputWidth(tty, { COLUMNS: 'wide' })).toBe(120);
    expect(outputWidth(pipe, {})).toBeUndefined();
    expect(outputWidth({ isTTY: true, columns: 0 }, {})).toBeUndefined();
  });
});
