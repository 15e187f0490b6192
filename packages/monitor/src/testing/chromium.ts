// Debian's chromium for the browser tests, driven by playwright-core (no browser download:
// these machines, and users' clusters, have no network for it).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.BATON_CHROMIUM ?? '/usr/bin/chromium';
export const INSTALL_HINT = 'apt-get update && apt-get install -y --no-install-recommends chromium (or set BATON_CHROMIUM to a Chromium executable)';

/** Whether the browser tests can run; in CI they must. */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** A browser with a profile of its own, in a fresh folder removed on close. */
export async function launchChromium(): Promise<BrowserContext & { dispose(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'baton-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 860 },
    // As root, Chromium refuses to start without --no-sandbox; the rest keeps it off the network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return Object.assign(context, {
    async dispose() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  });
}
