/**
 * Real Chromium for the dashboard's browser tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a downloaded browser), headless, with a fresh profile per suite.
 *
 * Every page opened here records what would mean the page misbehaved: uncaught errors and console
 * errors, CSP violations among them (Chromium reports each refused script, style or frame as a
 * console error: a violation would mean the page needs something the policy forbids, or that
 * injected markup tried to run). Tests assert that list is empty.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'offload-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1366, height: 900 },
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  // The default wait for a condition; a test that waits this long has failed.
  context.setDefaultTimeout(20_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface OpenPage {
  page: Page;
  /** Uncaught errors, console errors and CSP violations seen so far. */
  problems: string[];
}

/** A new page with no cookies from earlier tests (the theme choice in localStorage stays: the theme test puts it back). */
export async function openPage(browser: Browser): Promise<OpenPage> {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    // A refused request (401 at the login, 403 of a CSRF test) is logged by Chromium as a console
    // error naming the resource; those are the tests' own doing and checked by them.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|403|404)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
