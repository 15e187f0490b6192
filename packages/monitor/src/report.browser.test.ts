// The page `baton report` writes, in a real browser (Debian's chromium, driven by
// playwright-core), opened from its file: it renders offline, its timeline shows the jobs,
// and its table sorts when a header is clicked. BATON_REPORT_SCREENSHOT=docs/images/report.png
// saves a screenshot of it for the docs.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
// The CLI's test helpers, from its sources: the `baton` command it runs is the built one.
import { runBaton } from '../../cli/src/testing/runBaton.ts';
import { createUserProject } from '../../cli/src/testing/userProject.ts';
import { CHROMIUM, INSTALL_HINT, chromiumAvailable, launchChromium } from './testing/chromium.ts';

const inCI = process.env.CI === 'true';
const available = chromiumAvailable();
if (!available && !inCI) console.warn(`Browser tests skipped: no Chromium at ${CHROMIUM}; install it: ${INSTALL_HINT}`);

const SCREENSHOT = process.env.BATON_REPORT_SCREENSHOT;

describe.skipIf(!available && !inCI)('the report page in Chromium', () => {
  let dir: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    if (!available) throw new Error(`CI=true but there is no Chromium at ${CHROMIUM}: the browser suite cannot run; ${INSTALL_HINT}`);
    dir = await createUserProject('baton-report-browser-');
    await writeFile(
      join(dir, 'train.ts'),
      [
        "import { z } from 'zod';",
        "import { defineExperiment, defineTask } from '@baton/core';",
        "export const train = defineTask({ id: 'train', params: z.object({ lr: z.number(), seconds: z.number() }), command: (p) => ['sh', '-c', `sleep ${p.seconds}; echo lr=${p.lr}`] });",
        "export const evaluate = defineTask({ id: 'evaluate', params: z.object({ model: z.string() }), command: (p) => ['sh', '-c', 'echo loading \"$0\" >&2; echo \"CUDA error: out of memory\" >&2; exit 2', p.model] });",
        "export const summarize = defineTask({ id: 'summarize', params: z.object({ scores: z.string() }), command: (p) => ['cat', p.scores] });",
        'export default defineExperiment({ run({ xp }) {',
        '  const models = [0.1, 0.03, 0.01, 0.003].map((lr, i) => xp.submit(train, { lr, seconds: 0.4 + 0.3 * i }));',
        "  const scores = xp.submit(evaluate, { model: models[3]!.path('model.pt') });",
        "  xp.submit(summarize, { scores: scores.path('scores.json') });",
        '} });',
        '',
      ].join('\n'),
    );
    const workspace = join(dir, 'workspace');
    const run = await runBaton(['run-experiment', '--file', 'train.ts', '-c', 'id=sweep', '--workdir', workspace], { cwd: dir });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = await runBaton(['report', '--experiment', 'sweep', '--workdir', workspace], { cwd: dir });
    expect(report.code, report.stderr).toBe(0);
    browser = await launchChromium();
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
  });

  afterAll(async () => {
    await browser?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders from its file alone, without an error', async () => {
    expect(await page.title()).toBe(`Baton report: experiment sweep, run ${await runId(page)}`);
    expect(requests).toEqual([pathToFileURL(join(dir, 'report.html')).href]);
    expect(errors).toEqual([]);
  });

  it('shows a timeline of the jobs per launcher and host', async () => {
    const lanes = await page.locator('#timeline .lane-name').allTextContents();
    expect(lanes).toHaveLength(1);
    expect(lanes[0]).toMatch(/^local · \S+/);
    // Four train jobs and the evaluate job ran; summarize never reached a launcher.
    await expect.poll(() => page.locator('#timeline g.bar').count()).toBe(5);
    const box = await page.locator('#timeline svg').first().boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    expect(await page.locator('#timeline rect.state-failed').count()).toBe(1);
    expect(await page.locator('#failures pre.stderr').first().textContent()).toContain('CUDA error: out of memory');
  });

  it('sorts the table by the column whose header is clicked, the other way on a second click', async () => {
    const column = async (name: string) => {
      const index = (await page.locator('table.jobs th').allTextContents()).findIndex((text) => text.replace(/[ ▲▼]+$/, '') === name);
      return page.locator(`table.jobs tbody tr td:nth-child(${index + 1})`).evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-sort')));
    };
    const header = page.locator('table.jobs th', { hasText: /^duration/ });
    await header.click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    const ascending = await column('duration');
    const known = ascending.filter((value) => value !== '').map(Number);
    expect(known.length).toBe(5);
    expect(known).toEqual([...known].sort((a, b) => a - b));
    // Jobs that never ran (no duration) come last.
    expect(ascending.at(-1)).toBe('');
    await header.click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    const descending = (await column('duration')).filter((value) => value !== '').map(Number);
    expect(descending).toEqual([...known].reverse());
    await page.locator('table.jobs th', { hasText: /^task/ }).click();
    expect(await column('task')).toEqual(['evaluate', 'summarize', 'train', 'train', 'train', 'train']);
    if (SCREENSHOT) {
      await page.locator('table.jobs th', { hasText: /^#/ }).click();
      const path = resolve(SCREENSHOT);
      await mkdir(dirname(path), { recursive: true });
      await page.screenshot({ path, fullPage: true });
    }
  });
});

async function runId(page: Page): Promise<string> {
  return (await page.locator('.subtitle').textContent())!.match(/run (\S+) ·/)![1]!;
}
