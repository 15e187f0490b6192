// The monitor's page: Preact components written with htm (tagged templates, no build step),
// fed by the monitor's JSON API and kept live by its event channel. Every URL is relative to
// the page, so the monitor works behind a path prefix too.
/* global document, EventSource, navigator, URLSearchParams */
import { h, render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);

const STATES = ['running', 'queued', 'ready', 'waiting', 'failed', 'done', 'incomplete'];
const KILLABLE = new Set(['running', 'queued']);
/** At most this much of a log is kept on the page (the start of a longer one is dropped). */
const MAX_LOG_CHARS = 2_000_000;

function App() {
  const [overview, setOverview] = useState(undefined);
  const [jobs, setJobs] = useState(undefined);
  const [filters, setFilters] = useState({ state: '', task: '', experiment: '' });
  const [selected, setSelected] = useState(undefined);
  const [version, setVersion] = useState(0);
  const [live, setLive] = useState('connecting');
  const [error, setError] = useState(undefined);

  // The live channel: every `changed` makes the page read the API again.
  useEffect(() => {
    const source = new EventSource('api/events');
    source.addEventListener('hello', () => {
      setLive('live');
      setVersion((value) => value + 1);
    });
    source.addEventListener('changed', () => setVersion((value) => value + 1));
    source.onerror = () => setLive('reconnecting');
    return () => source.close();
  }, []);

  useEffect(() => {
    let stale = false;
    const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ''));
    Promise.all([getJson('api/overview'), getJson(`api/jobs?${query}`)])
      .then(([nextOverview, nextJobs]) => {
        if (stale) return;
        setOverview(nextOverview);
        setJobs(nextJobs);
        setError(undefined);
      })
      .catch((reason) => !stale && setError(reason.message));
    return () => {
      stale = true;
    };
  }, [version, filters]);

  const refresh = useCallback(() => setVersion((value) => value + 1), []);
  const setFilter = (name, value) => setFilters((current) => ({ ...current, [name]: value }));

  return html`
    <header class="top">
      <h1>Baton monitor</h1>
      ${overview &&
      html`<span class="where" title=${overview.workspace}>
        ${overview.experiment ? html`experiment <b>${overview.experiment.name}</b>, run ${overview.experiment.runId}` : html`workspace <b>${overview.workspace}</b>`}
      </span>`}
      <span class=${`live live-${live}`} data-testid="live">${live === 'live' ? '● live' : live === 'connecting' ? '○ connecting' : '○ reconnecting'}</span>
    </header>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="layout">
      <aside>
        <${Experiments} overview=${overview} current=${filters.experiment} onPick=${(name) => setFilter('experiment', filters.experiment === name ? '' : name)} />
        <${Services} overview=${overview} />
      </aside>
      <main>
        <${Filters} jobs=${jobs} overview=${overview} filters=${filters} setFilter=${setFilter} />
        <${JobTable} jobs=${jobs} selected=${selected} onSelect=${setSelected} />
      </main>
      ${selected && html`<${JobPanel} key=${selected} id=${selected} version=${version} onSelect=${setSelected} onClose=${() => setSelected(undefined)} onKilled=${refresh} />`}
    </div>
  `;
}

function Experiments({ overview, current, onPick }) {
  if (!overview) return null;
  return html`
    <section class="box">
      <h2>Experiments</h2>
      ${overview.experiments.length === 0 && html`<p class="muted">None yet.</p>`}
      <ul class="experiments">
        ${overview.experiments.map(
          (experiment) => html`
            <li key=${experiment.name}>
              <button class=${`link ${current === experiment.name ? 'picked' : ''}`} title="show only its jobs" onClick=${() => onPick(experiment.name)}>${experiment.name}</button>
              <ul class="runs">
                ${experiment.runs.slice(0, 5).map(
                  (run) => html`<li key=${run.id}>${run.id}${run.current ? html` <span class="tag">current</span>` : ''} <span class="muted">${run.jobs} job${run.jobs === 1 ? '' : 's'}</span></li>`,
                )}
                ${experiment.runs.length > 5 && html`<li class="muted">… ${experiment.runs.length - 5} older</li>`}
              </ul>
            </li>
          `,
        )}
      </ul>
    </section>
  `;
}

function Services({ overview }) {
  if (!overview) return null;
  return html`
    <section class="box">
      <h2>Services</h2>
      ${overview.services.length === 0 && html`<p class="muted">None.</p>`}
      <ul class="services">
        ${overview.services.map(
          (service) => html`
            <li key=${service.recorded ? `${service.recorded.experiment}/${service.id}` : service.id} data-service=${service.id}>
              <${StateBadge} state=${service.state} />
              ${service.href ? html`<a href=${service.href} target="_blank" rel="noopener noreferrer">${service.description}</a>` : html`<span>${service.description}</span>`}
              ${service.recorded &&
              html`<span class="muted recorded" title="recorded by its run; reached directly, not through the monitor">
                ${service.recorded.experiment}${service.recorded.url ? html`, <span class="mono">${service.recorded.url}</span>` : ''}
              </span>`}
            </li>
          `,
        )}
      </ul>
    </section>
  `;
}

function Filters({ jobs, overview, filters, setFilter }) {
  const counts = jobs?.counts ?? {};
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  return html`
    <div class="filters">
      <label>State
        <select name="state" value=${filters.state} onChange=${(event) => setFilter('state', event.currentTarget.value)}>
          <option value="">all (${total})</option>
          ${STATES.filter((state) => counts[state] || filters.state === state).map((state) => html`<option value=${state}>${state} (${counts[state] ?? 0})</option>`)}
        </select>
      </label>
      <label>Task
        <select name="task" value=${filters.task} onChange=${(event) => setFilter('task', event.currentTarget.value)}>
          <option value="">all</option>
          ${(jobs?.tasks ?? []).map((task) => html`<option value=${task}>${task}</option>`)}
        </select>
      </label>
      <label>Experiment
        <select name="experiment" value=${filters.experiment} onChange=${(event) => setFilter('experiment', event.currentTarget.value)}>
          <option value="">all</option>
          ${(overview?.experiments ?? []).map((experiment) => html`<option value=${experiment.name}>${experiment.name}</option>`)}
        </select>
      </label>
      <span class="summary">${STATES.filter((state) => counts[state]).map((state) => html`<span class=${`count state-${state}`}>${counts[state]} ${state}</span>`)}</span>
    </div>
  `;
}

function JobTable({ jobs, selected, onSelect }) {
  const now = useNow();
  if (!jobs) return html`<p class="muted">Reading the jobs…</p>`;
  if (jobs.jobs.length === 0) return html`<p class="muted">No jobs${jobs.total === 0 ? '' : ' here'}.</p>`;
  return html`
    <table class="jobs">
      <thead>
        <tr><th>State</th><th>Task</th><th>Job</th><th>Launcher</th><th>Host</th><th>Duration</th><th>Reason</th></tr>
      </thead>
      <tbody>
        ${jobs.jobs.map(
          (job) => html`
            <tr key=${job.id} data-job=${job.id} data-state=${job.state} class=${selected === job.id ? 'selected' : ''} onClick=${() => onSelect(job.id)}>
              <td><${StateBadge} state=${job.state} /></td>
              <td>${job.taskId}</td>
              <td class="mono"><button class="link mono" onClick=${() => onSelect(job.id)}>${job.hash.slice(0, 12)}</button></td>
              <td>${job.launcher ?? ''}${job.clusterId ? html` <span class="muted">#${job.clusterId}</span>` : ''}</td>
              <td>${job.host ?? ''}</td>
              <td class="num">${duration(job, now)}</td>
              <td class="reason">${reason(job)}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
    ${jobs.total > jobs.jobs.length && html`<p class="muted">${jobs.total - jobs.jobs.length} more not shown: narrow the filters.</p>`}
  `;
}

function JobPanel({ id, version, onSelect, onClose, onKilled }) {
  const [job, setJob] = useState(undefined);
  const [error, setError] = useState(undefined);
  const [stream, setStream] = useState('stdout');
  const [killResult, setKillResult] = useState(undefined);
  const now = useNow();
  useEffect(() => {
    let stale = false;
    getJson(`api/jobs/${id}`)
      .then((detail) => !stale && (setJob(detail), setError(undefined)))
      .catch((reason) => !stale && setError(reason.message));
    return () => {
      stale = true;
    };
  }, [id, version]);
  if (error) return html`<section class="panel box"><p class="error">${error}</p><button onClick=${onClose}>Close</button></section>`;
  if (!job) return html`<section class="panel box"><p class="muted">Reading ${id}…</p></section>`;
  const fields = [
    ['State', html`<${StateBadge} state=${job.state} />`],
    ['Launcher', job.launcher && `${job.launcher} (${job.kind})`],
    ['Cluster job', job.clusterId],
    ['Host', job.host],
    ['Submitted', time(job.submittedAt)],
    ['Started', time(job.startedAt)],
    ['Ended', time(job.endedAt)],
    ['Duration', duration(job, now)],
    ['Exit code', job.exitCode === undefined || job.exitCode === null ? undefined : String(job.exitCode)],
    ['Waiting for', job.detail],
    ['Failure', job.failure && `${job.failure.reason}: ${job.failure.message}`],
    ['Experiments', job.experiments.join(', ')],
    ['Directory', html`<span class="mono">${job.directory}</span>`],
  ].filter(([, value]) => value !== undefined && value !== '');
  return html`
    <section class="panel box" data-testid="job-panel">
      <header class="panel-head">
        <h2><span class="mono">${job.taskId}/${job.hash.slice(0, 12)}</span></h2>
        ${killResult
          ? html`<span class="kill-result" role="status">${killResult}</span>`
          : KILLABLE.has(job.state) && html`<${KillButton} job=${job} onResult=${(message) => (setKillResult(message), onKilled())} />`}
        <button class="close" title="close" onClick=${onClose}>×</button>
      </header>
      <dl class="fields">${fields.map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>`)}</dl>
      <${JobLinks} title="Depends on" jobs=${job.dependencies} onSelect=${onSelect} />
      <${JobLinks} title="Needed by" jobs=${job.dependents} onSelect=${onSelect} />
      <div class="tabs" role="tablist">
        ${['stdout', 'stderr'].map((name) => html`<button role="tab" aria-selected=${stream === name} class=${stream === name ? 'tab on' : 'tab'} onClick=${() => setStream(name)}>${name}</button>`)}
      </div>
      <${LogView} key=${`${id}:${stream}`} id=${id} stream=${stream} />
    </section>
  `;
}

function JobLinks({ title, jobs, onSelect }) {
  if (!jobs || jobs.length === 0) return null;
  return html`
    <div class="deps">
      <h3>${title}</h3>
      <ul>
        ${jobs.map((job) => html`<li key=${job.id}>${job.state && html`<${StateBadge} state=${job.state} />`} <button class="link mono" onClick=${() => onSelect(job.id)}>${job.taskId}/${job.hash.slice(0, 12)}</button></li>`)}
      </ul>
    </div>
  `;
}

function KillButton({ job, onResult }) {
  const [step, setStep] = useState('idle');
  const kill = async () => {
    setStep('killing');
    try {
      const response = await fetch(`api/jobs/${job.id}/kill`, { method: 'POST' });
      const result = await response.json();
      onResult(result.error ?? (result.hint ? `${result.message} (${result.hint})` : result.message));
    } catch (reason) {
      onResult(reason.message);
    }
  };
  if (step === 'idle') return html`<button class="danger" onClick=${() => setStep('confirm')}>Kill</button>`;
  if (step === 'confirm') {
    return html`<span class="confirm">Kill this job? <button class="danger" onClick=${kill}>Yes, kill it</button> <button onClick=${() => setStep('idle')}>No</button></span>`;
  }
  return html`<span class="muted">Killing…</span>`;
}

/** The job's output, followed as it grows (a live channel per view; it ends with the job). */
function LogView({ id, stream }) {
  const [text, setText] = useState('');
  const [status, setStatus] = useState('reading');
  const [cut, setCut] = useState(false);
  const [follow, setFollow] = useState(true);
  const box = useRef(undefined);
  useEffect(() => {
    let source;
    let next;
    let timer;
    let stopped = false;
    const open = () => {
      source = new EventSource(`api/jobs/${id}/log/${stream}/follow${next === undefined ? '' : `?offset=${next}`}`);
      source.addEventListener('output', (event) => {
        const chunk = JSON.parse(event.data);
        if (next === undefined && chunk.offset > 0) setCut(true);
        next = chunk.next;
        if (chunk.text) setText((current) => trimLog(current + chunk.text, setCut));
        setStatus(chunk.finished ? 'ended' : 'following');
      });
      source.addEventListener('end', () => {
        source.close();
        setStatus('ended');
      });
      // Reopened from where it stopped, not from the start (EventSource would start over).
      source.onerror = () => {
        source.close();
        if (!stopped) {
          setStatus('reconnecting');
          timer = setTimeout(open, 1000);
        }
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [id, stream]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text, follow]);
  return html`
    <div class="log">
      <div class="log-bar">
        <span class="muted" data-testid="log-status">${status === 'ended' ? 'complete' : status}</span>
        <label><input type="checkbox" checked=${follow} onChange=${(event) => setFollow(event.currentTarget.checked)} /> follow</label>
      </div>
      ${cut && html`<p class="muted">… the start of the output is not shown.</p>`}
      <pre ref=${box} data-testid="log" data-stream=${stream}>${text || (status === 'ended' ? '(empty)' : '')}</pre>
    </div>
  `;
}

function StateBadge({ state }) {
  return html`<span class=${`badge state-${state}`}>${state}</span>`;
}

/** The time now, every second, for durations of jobs still running. */
function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function duration(job, now) {
  if (job.durationSeconds !== undefined) return formatSeconds(job.durationSeconds);
  const since = job.startedAt ?? job.submittedAt;
  if (since && (job.state === 'running' || job.state === 'queued')) return `${formatSeconds((now - Date.parse(since)) / 1000)}…`;
  return '';
}

function formatSeconds(seconds) {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

function reason(job) {
  if (job.failure) return `${job.failure.reason}${job.failure.message ? `: ${job.failure.message}` : ''}`;
  return job.detail ?? '';
}

function time(iso) {
  if (!iso) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(navigator.language);
}

function trimLog(text, setCut) {
  if (text.length <= MAX_LOG_CHARS) return text;
  setCut(true);
  return text.slice(text.length - MAX_LOG_CHARS);
}

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${url}: HTTP ${response.status}`);
  return body;
}

const root = document.getElementById('app');
// Preact renders next to what is there: the loading line goes first.
root.replaceChildren();
render(html`<${App} />`, root);
