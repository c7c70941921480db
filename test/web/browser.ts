// Debian's Chromium driven by playwright-core (Playwright's own browser download cannot reach the internet here),
// with axe-core accessibility checks and a screenshot per view.
import { AxeBuilder } from '@axe-core/playwright';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { LocalStackOptions } from '../../bin/local/stack.js';
import { startTestStack, type TestStack } from '../e2e/helpers.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(import.meta.dirname, 'screenshots');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** Fails on any serious or critical axe-core violation, naming each with the elements it found. */
export async function expectAccessible(page: Page): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad).toEqual([]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Collects uncaught page errors and console errors, so a test can assert the page had none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return errors;
}

export interface DashboardSession {
  stack: TestStack;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** This test's page errors so far. */
  errors: string[];
  /** Opens a path of the dashboard and waits for the live feed. */
  open(path: string): Promise<void>;
}

/**
 * One local stack and one Chromium for the test file, a fresh 1280×900 page for each test: registers the hooks and
 * returns the object they fill in (read its fields inside the tests).
 */
export function dashboardSession(opts: Partial<LocalStackOptions>): DashboardSession {
  const s = {
    async open(path: string) {
      await s.page.goto(`${s.stack.config.apiUrl}${path}`);
      await s.page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 });
    },
  } as DashboardSession;
  beforeAll(async () => {
    [s.stack, s.browser] = await Promise.all([startTestStack(opts), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await s.browser?.close();
    await s.stack?.dispose();
  });
  beforeEach(async () => {
    s.context = await s.browser.newContext({ viewport: { width: 1280, height: 900 } });
    s.page = await s.context.newPage();
    s.errors = pageErrors(s.page);
  });
  afterEach(() => s.context?.close());
  return s;
}
