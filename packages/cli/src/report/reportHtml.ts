// The HTML page of `baton report`: one file that opens anywhere, offline (inline CSS and
// script, no asset, no request). Every value from the workspace (task ids, hosts, messages,
// stderr) is escaped: a job's files are data, never markup.
import { formatSize } from '@baton/core';
import type { ReportJob } from './reportJobs.ts';

export interface ReportPageOptions {
  /** What the report is of: `experiment mnist, run 20261201-1200` or a workspace path. */
  title: string;
  jobs: readonly ReportJob[];
  /** When the report was made; the end of the bars of jobs still running. */
  generatedAt: Date;
}

export function reportHtml(options: ReportPageOptions): string {
  const { jobs, title, generatedAt } = options;
  const failed = jobs.filter((job) => job.state === 'failed');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>Baton report: ${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Baton report</h1><p class="subtitle">${escapeHtml(title)} · generated ${escapeHtml(generatedAt.toISOString())}</p>
${summary(jobs)}</header>
<section id="timeline"><h2>Timeline</h2>${timeline(jobs, generatedAt)}</section>
<section id="failures"><h2>Failures (${failed.length})</h2>${failed.length === 0 ? '<p class="none">No job failed.</p>' : failed.map(failure).join('\n')}</section>
<section id="jobs"><h2>Jobs (${jobs.length})</h2>${table(jobs)}</section>
<script>${SORT_SCRIPT}</script>
</body>
</html>
`;
}

/** Text for HTML content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

// ---------------------------------------------------------------------------

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const STATES = ['done', 'failed', 'running', 'queued', 'incomplete'] as const;

function summary(jobs: readonly ReportJob[]): string {
  const counts = STATES.map((state) => [state, jobs.filter((job) => job.state === state).length] as const).filter(([, n]) => n > 0);
  const total = jobs.reduce((sum, job) => sum + (job.durationSeconds ?? 0), 0);
  return `<ul class="summary"><li><b>${jobs.length}</b> job${jobs.length === 1 ? '' : 's'}</li>${counts
    .map(([state, n]) => `<li class="state-${state}"><b>${n}</b> ${state}</li>`)
    .join('')}<li><b>${escapeHtml(formatSeconds(total))}</b> of job time</li></ul>`;
}

const LANE_ROW = 14;
const WIDTH = 1000;

/** Bars per launcher and host: waiting (hand-over to start) pale, running in the state's colour. */
function timeline(jobs: readonly ReportJob[], now: Date): string {
  const placed = jobs.filter((job) => job.startedAt !== undefined || job.submittedAt !== undefined);
  if (placed.length === 0) return '<p class="none">No job has started yet.</p>';
  const times = (job: ReportJob) => {
    const submitted = job.submittedAt ? Date.parse(job.submittedAt) : undefined;
    const started = job.startedAt ? Date.parse(job.startedAt) : undefined;
    const ended = job.endedAt ? Date.parse(job.endedAt) : job.state === 'running' || job.state === 'queued' ? now.getTime() : (started ?? submitted)!;
    const from = Math.min(submitted ?? started!, started ?? ended);
    return { from, started, ended: Math.max(ended, started ?? from) };
  };
  const spans = placed.map((job) => ({ job, ...times(job) }));
  const t0 = Math.min(...spans.map((s) => s.from));
  const t1 = Math.max(t0 + 1000, ...spans.map((s) => s.ended));
  const x = (t: number) => ((t - t0) / (t1 - t0)) * WIDTH;
  const lanes = new Map<string, typeof spans>();
  for (const span of spans) {
    const key = `${span.job.launcher ?? '(no launcher)'} · ${span.job.host ?? '(unknown host)'}`;
    lanes.set(key, [...(lanes.get(key) ?? []), span]);
  }
  const rows = [...lanes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([lane, laneSpans]) => {
    // Overlapping jobs go on rows of their own: the first row free at the job's start.
    const rowEnds: number[] = [];
    const bars = laneSpans
      .sort((a, b) => a.from - b.from)
      .map((span) => {
        let row = rowEnds.findIndex((end) => end <= span.from);
        if (row === -1) row = rowEnds.push(0) - 1;
        rowEnds[row] = span.ended;
        const y = row * LANE_ROW + 2;
        const { job } = span;
        const tip = `${job.taskId}/${job.hash.slice(0, 12)} (${job.state})\nwaited ${formatSeconds(job.waitSeconds)}, ran ${formatSeconds(job.durationSeconds)}`;
        const wait =
          span.started !== undefined && span.started > span.from
            ? `<rect class="wait" x="${x(span.from).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(span.started) - x(span.from)).toFixed(1)}" height="${LANE_ROW - 4}"/>`
            : '';
        const runStart = span.started ?? span.from;
        const run =
          span.started === undefined
            ? `<rect class="wait" x="${x(span.from).toFixed(1)}" y="${y}" width="${Math.max(1, x(span.ended) - x(span.from)).toFixed(1)}" height="${LANE_ROW - 4}"/>`
            : `<rect class="run state-${job.state}" x="${x(runStart).toFixed(1)}" y="${y}" width="${Math.max(1, x(span.ended) - x(runStart)).toFixed(1)}" height="${LANE_ROW - 4}"/>`;
        return `<g class="bar" data-job="${escapeHtml(job.hash)}"><title>${escapeHtml(tip)}</title>${wait}${run}</g>`;
      });
    const height = rowEnds.length * LANE_ROW + 4;
    return `<div class="lane"><div class="lane-name" title="${escapeHtml(lane)}">${escapeHtml(lane)}</div><svg viewBox="0 0 ${WIDTH} ${height}" preserveAspectRatio="none" height="${height}">${bars.join('')}</svg></div>`;
  });
  const unplaced = jobs.length - placed.length;
  return `<div class="axis"><span>${escapeHtml(new Date(t0).toISOString())}</span><span>${escapeHtml(formatSeconds((t1 - t0) / 1000))}</span><span>${escapeHtml(new Date(t1).toISOString())}</span></div>
${rows.join('\n')}
<p class="legend"><span class="key wait"></span> waiting <span class="key state-done"></span> done <span class="key state-failed"></span> failed <span class="key state-running"></span> running${unplaced > 0 ? ` · ${unplaced} job${unplaced === 1 ? '' : 's'} never handed to a launcher` : ''}</p>`;
}

function failure(job: ReportJob): string {
  const tail = job.stderrTail ?? [];
  return `<article class="failure"><h3>${escapeHtml(job.taskId)}/<code>${escapeHtml(job.hash.slice(0, 12))}</code> — ${escapeHtml(job.reason ?? 'failed')}${
    job.exitCode === undefined || job.exitCode === null ? '' : ` (exit ${escapeHtml(job.exitCode)})`
  }</h3>${job.message ? `<p class="message">${escapeHtml(job.message)}</p>` : ''}${
    job.params === undefined ? '' : `<p class="params">params: <code>${escapeHtml(cut(JSON.stringify(job.params), 500))}</code></p>`
  }<p class="directory">${escapeHtml(job.directory)}</p>${
    tail.length === 0 ? '<p class="none">stderr is empty.</p>' : `<pre class="stderr">${escapeHtml(tail.join('\n'))}</pre>`
  }</article>`;
}

interface Column {
  name: string;
  numeric?: boolean;
  value(job: ReportJob): string | number | undefined | null;
  text?(job: ReportJob): string;
}

const COLUMNS: Column[] = [
  { name: '#', numeric: true, value: (job) => job.index },
  { name: 'task', value: (job) => job.taskId },
  { name: 'hash', value: (job) => job.hash, text: (job) => job.hash.slice(0, 12) },
  { name: 'state', value: (job) => job.state },
  { name: 'reason', value: (job) => job.reason },
  { name: 'exit', numeric: true, value: (job) => job.exitCode },
  { name: 'submitted', value: (job) => job.submittedAt },
  { name: 'started', value: (job) => job.startedAt },
  { name: 'ended', value: (job) => job.endedAt },
  { name: 'duration', numeric: true, value: (job) => job.durationSeconds, text: (job) => formatSeconds(job.durationSeconds) },
  { name: 'wait', numeric: true, value: (job) => job.waitSeconds, text: (job) => formatSeconds(job.waitSeconds) },
  { name: 'peak memory', numeric: true, value: (job) => job.peakMemoryBytes, text: (job) => (job.peakMemoryBytes === undefined ? '' : formatSize(job.peakMemoryBytes)) },
  { name: 'host', value: (job) => job.host },
  { name: 'launcher', value: (job) => job.launcher },
  { name: 'params', value: (job) => (job.params === undefined ? undefined : JSON.stringify(job.params)), text: (job) => (job.params === undefined ? '' : cut(JSON.stringify(job.params), 80)) },
];

function table(jobs: readonly ReportJob[]): string {
  const head = COLUMNS.map((column) => `<th data-type="${column.numeric ? 'number' : 'text'}" aria-sort="none" tabindex="0">${escapeHtml(column.name)}</th>`).join('');
  const body = jobs
    .map((job) => {
      const cells = COLUMNS.map((column) => {
        const value = column.value(job);
        const known = value !== undefined && value !== null;
        const text = column.text ? column.text(job) : known ? String(value) : '';
        return `<td data-sort="${known ? escapeHtml(value) : ''}"${column.name === 'state' ? ` class="state-${escapeHtml(job.state)}"` : column.name === 'params' ? ' class="params"' : ''}>${escapeHtml(text)}</td>`;
      }).join('');
      return `<tr>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="table-wrap"><table class="jobs"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function cut(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 24px 40px;color:#1d2330;background:#fff}
h1{margin:16px 0 0;font-size:22px}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
.subtitle{color:#5b6475;margin:2px 0 8px}.none{color:#5b6475}
.summary{list-style:none;padding:0;margin:0;display:flex;gap:18px;flex-wrap:wrap}
.axis{display:flex;justify-content:space-between;margin-left:220px;color:#5b6475;font-size:12px}
.lane{display:flex;align-items:flex-start;border-top:1px solid #eef0f4}
.lane-name{width:212px;flex:none;padding:2px 8px 2px 0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:12px}
.lane svg{flex:1;width:100%;display:block;background:#fafbfc}
rect.wait,.key.wait{fill:#d7dce5;background:#d7dce5}
rect.state-done,.key.state-done{fill:#3b9b5a;background:#3b9b5a}rect.state-failed,.key.state-failed{fill:#d64545;background:#d64545}
rect.state-running,.key.state-running{fill:#3a79d6;background:#3a79d6}rect.state-queued,rect.state-incomplete{fill:#a0a7b4}
.key{display:inline-block;width:14px;height:10px;margin:0 4px 0 10px}.legend{font-size:12px;color:#5b6475}
.failure{border-left:4px solid #d64545;padding:4px 12px;margin:10px 0;background:#fdf6f6}
.failure h3{margin:4px 0;font-size:15px}.message,.directory,.params{margin:2px 0;color:#5b6475;font-size:12px;word-break:break-all}
pre.stderr{background:#1d2330;color:#f1f3f7;padding:8px;overflow:auto;max-height:320px;font-size:12px}
table.jobs{border-collapse:collapse;width:100%;font-size:12px}
table.jobs th,table.jobs td{padding:3px 8px;border-bottom:1px solid #eef0f4;text-align:left;white-space:nowrap}
.table-wrap{overflow-x:auto}table.jobs td.params{white-space:normal;word-break:break-all;min-width:240px;max-width:420px}
table.jobs th{cursor:pointer;user-select:none;background:#f3f5f8;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
td.state-done{color:#2c7a45}td.state-failed{color:#b83232;font-weight:600}td.state-running{color:#2d62b0}
`;

// Sorts the table by the clicked column (again: the other way); empty cells last.
const SORT_SCRIPT = `
(function(){
  var table=document.querySelector('table.jobs');if(!table)return;
  var heads=table.querySelectorAll('th');
  function sortBy(th){
    var i=Array.prototype.indexOf.call(heads,th),numeric=th.getAttribute('data-type')==='number';
    var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
    heads.forEach(function(h){h.setAttribute('aria-sort','none')});
    th.setAttribute('aria-sort',dir===1?'ascending':'descending');
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){
      var x=a.cells[i].getAttribute('data-sort'),y=b.cells[i].getAttribute('data-sort');
      if(x===''||y==='')return x===y?0:x===''?1:-1;
      return dir*(numeric?Number(x)-Number(y):x.localeCompare(y));
    });
    rows.forEach(function(r){body.appendChild(r)});
  }
  heads.forEach(function(th){
    th.addEventListener('click',function(){sortBy(th)});
    th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(th)}});
  });
})();
`;
