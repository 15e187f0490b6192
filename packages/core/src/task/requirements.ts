// The requirements language: `cuda(mem=24G)*2 & cpu(cores=8, mem=64G) & duration=4h`,
// alternatives separated by `|` (the launcher finder takes the first that fits).
import { UserInputError } from '../errors.ts';
import type { HostDescription, Requirements } from '../types.ts';

const SIZE_UNITS: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };
/** Spelled-out duration units, singular or plural: `4 days`, `2 hours`, `90min`, `30 secs`. */
const DURATION_WORDS: Record<string, string> = {
  sec: 's', second: 's', min: 'm', minute: 'm', hr: 'h', hour: 'h', day: 'd', week: 'w',
};

/** Parses a requirements expression into its alternatives. */
export function parseRequirements(text: string | undefined): Requirements[] {
  if (!text || !text.trim()) return [{}];
  return text.split('|').map((alternative) => parseConjunction(alternative.trim(), text));
}

/** True when a host offers everything `requirements` asks for (unknown capacities fit). */
export function hostFits(host: HostDescription, requirements: Requirements): boolean {
  return hostShortfall(host, requirements) === undefined;
}

/** Why a host does not offer what `requirements` asks for (e.g. `GPUs of 16G, 24G asked`); undefined when it does. */
export function hostShortfall(host: HostDescription, requirements: Requirements): string | undefined {
  if (requirements.cores !== undefined && host.cores !== undefined && requirements.cores > host.cores) {
    return `${host.cores} cores, ${requirements.cores} asked`;
  }
  if (requirements.memory !== undefined && host.memory !== undefined && requirements.memory > host.memory) {
    return `${formatSize(host.memory)} of memory, ${formatSize(requirements.memory)} asked`;
  }
  if (requirements.duration !== undefined && host.maxDuration !== undefined && requirements.duration > host.maxDuration) {
    return `jobs of at most ${formatDuration(host.maxDuration)}, ${formatDuration(requirements.duration)} asked`;
  }
  if (requirements.gpus && requirements.gpus.count > 0) {
    if ((host.gpus ?? 0) < requirements.gpus.count) return `${host.gpus ?? 0} GPUs, ${requirements.gpus.count} asked`;
    const memory = requirements.gpus.memory;
    if (memory !== undefined && host.gpuMemory !== undefined && memory > host.gpuMemory) {
      return `GPUs with ${formatSize(host.gpuMemory)} of memory, ${formatSize(memory)} per GPU asked`;
    }
  }
  return undefined;
}

/** A size for people: `24G`, `1.5G`, `512M`. */
export function formatSize(bytes: number): string {
  for (const unit of ['T', 'G', 'M', 'K'] as const) {
    const size = SIZE_UNITS[unit]!;
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))}${unit}`;
  }
  return `${bytes}B`;
}

/** A duration for people: `4h`, `1d12h`, `90s`. */
export function formatDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join('');
}

/** A requirements alternative for people: `2 GPUs of 24G, 8 cores, 64G, 4h`. */
export function describeRequirements(requirements: Requirements): string {
  const parts: string[] = [];
  const gpus = requirements.gpus;
  if (gpus && gpus.count > 0) parts.push(`${gpus.count} GPU${gpus.count > 1 ? 's' : ''}${gpus.memory === undefined ? '' : ` of ${formatSize(gpus.memory)}`}`);
  if (requirements.cores !== undefined) parts.push(`${requirements.cores} cores`);
  if (requirements.memory !== undefined) parts.push(`${formatSize(requirements.memory)} of memory`);
  if (requirements.duration !== undefined) parts.push(formatDuration(requirements.duration));
  return parts.join(', ') || 'nothing';
}

/** A size with its unit: `512M`, `24G`, `1.5GiB`, `100B` (a bare number is an error: bytes? megabytes?). */
export function parseSize(value: string, where: string): number {
  const text = value.trim();
  const match = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|(B))$/i.exec(text);
  if (!match) {
    const hint = /^\d+(?:\.\d+)?$/.test(text)
      ? `give a unit: ${text}G, ${text}M or ${text}B (binary units: 1G = 1024³ bytes)`
      : 'write a size like 512M, 24G or 1T';
    throw invalid(`"${value}" is not a size${/^\d+(?:\.\d+)?$/.test(text) ? ' (no unit)' : ''}`, where, hint);
  }
  return Math.round(Number(match[1]) * SIZE_UNITS[(match[2] ?? match[3])!.toUpperCase()]!);
}

export function parseDuration(value: string, where: string): number {
  const text = value.trim();
  const clock = parseClock(text);
  if (clock !== undefined) return clock;
  let total = 0;
  let rest = text;
  const part = /^(\d+(?:\.\d+)?)\s*([a-z]*)\s*,?\s*/i;
  if (!rest) throw invalid('empty duration', where, 'write a duration like 90s, 30m, 4h or 1d12h');
  while (rest) {
    const match = part.exec(rest);
    const unit = match ? durationUnit(match[2]!) : undefined;
    if (!match || unit === undefined) {
      throw invalid(`"${value}" is not a duration`, where, 'write a duration like 90s, 30m, 90min, 4h, 2 hours, 4 days, 1d12h or 04:00:00');
    }
    total += Number(match[1]) * DURATION_UNITS[unit]!;
    rest = rest.slice(match[0].length);
  }
  return Math.round(total);
}

/** `d`, `h`, `m`, `s`, `w` (or '' for seconds) for a unit as written, undefined if unknown. */
function durationUnit(written: string): string | undefined {
  const unit = written.toLowerCase();
  if (unit in DURATION_UNITS) return unit;
  const singular = unit.length > 2 && unit.endsWith('s') ? unit.slice(0, -1) : unit;
  return DURATION_WORDS[unit] ?? DURATION_WORDS[singular];
}

/**
 * SLURM's time formats: MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS
 * (a bare number is minutes in SLURM but seconds here, like the other units).
 */
function parseClock(text: string): number | undefined {
  const withDays = /^(\d+)-(\d+)(?::(\d{1,2}))?(?::(\d{1,2}))?$/.exec(text);
  if (withDays) {
    const [, days, hours, minutes, seconds] = withDays;
    return Number(days) * 86400 + Number(hours) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0);
  }
  const plain = /^(\d+):(\d{1,2})(?::(\d{1,2}))?$/.exec(text);
  if (!plain) return undefined;
  const [, a, b, c] = plain;
  return c === undefined ? Number(a) * 60 + Number(b) : Number(a) * 3600 + Number(b) * 60 + Number(c);
}

function parseConjunction(text: string, whole: string): Requirements {
  const where = `requirements "${whole}"`;
  const result: Requirements = {};
  for (const raw of text.split('&')) {
    const term = raw.trim();
    if (!term) throw invalid('empty term', where, 'join terms with & like cpu(cores=4) & duration=2h');
    const assignment = /^(duration|time)\s*=\s*(.+)$/.exec(term);
    if (assignment) {
      result.duration = parseDuration(assignment[2]!, where);
      continue;
    }
    const call = /^(cuda|gpu|cpu)\s*(?:\(([^)]*)\))?\s*(?:\*\s*(\d+))?$/.exec(term);
    if (!call) throw invalid(`unknown term "${term}"`, where, 'use cuda(mem=24G)*2, cpu(cores=8, mem=64G) or duration=4h');
    const args = parseArguments(call[2] ?? '', where);
    const times = call[3] === undefined ? 1 : Number(call[3]);
    if (call[1] === 'cpu') {
      for (const key of Object.keys(args)) {
        if (key !== 'cores' && key !== 'mem') throw invalid(`cpu() has no "${key}"`, where, 'cpu() takes cores=N and mem=SIZE');
      }
      if (args.cores !== undefined) result.cores = positiveInteger(args.cores, where) * times;
      if (args.mem !== undefined) result.memory = parseSize(args.mem, where) * times;
    } else {
      for (const key of Object.keys(args)) {
        if (key !== 'mem') throw invalid(`${call[1]}() has no "${key}"`, where, `${call[1]}() takes mem=SIZE`);
      }
      result.gpus = { count: times, ...(args.mem === undefined ? {} : { memory: parseSize(args.mem, where) }) };
    }
  }
  return result;
}

function parseArguments(text: string, where: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const match = /^(\w+)\s*=\s*(.+)$/.exec(item);
    if (!match) throw invalid(`"${item}" is not key=value`, where, 'write arguments like cores=8, mem=64G');
    args[match[1]!] = match[2]!.trim();
  }
  return args;
}

function positiveInteger(value: string, where: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw invalid(`"${value}" is not a positive integer`, where, 'write cores=4');
  return n;
}

function invalid(message: string, where: string, hint: string): UserInputError {
  return new UserInputError(`Invalid requirements: ${message}`, { where, hint });
}
