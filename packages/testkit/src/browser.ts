/**
 * Browser tests: Debian's chromium (/usr/bin/chromium, which .ci/run installs) driven by
 * playwright-core, never a downloaded browser. Pages run under the server's real
 * Content-Security-Policy; what they log as errors (CSP violations included) is collected so a
 * test can assert there was none. axe-core checks accessibility (WCAG 2.1 A and AA).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

/** One browser for a test file; close it in `after`. Fails (rather than skips) without chromium. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Browser tests need Debian's chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it).`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}

export interface TestPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Console errors (but the browser's line for each 4xx answer), uncaught exceptions and CSP violations so far. */
  readonly problems: string[];
}

/**
 * A page in a fresh context (its own cookies: one person). Timeouts are short so a wrong
 * expectation fails in seconds, not minutes.
 */
export async function openPage(browser: Browser, url?: string): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // An API's 4xx answer is logged by the browser too; the page shows those to the user (tests check it does).
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  if (url !== undefined) await page.goto(url);
  return { page, context, problems };
}

let axeSource: Promise<string> | undefined;

/**
 * axe-core's WCAG 2.1 A/AA and best-practice findings on the page as it is now, one line each
 * (rule, impact, the elements). Injected through the DevTools protocol, which the page's CSP
 * does not govern, so the page itself keeps running under its real policy.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(await axeSource);
  const found = await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    .then((result) => result.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`);
  return found as string[];
}

/** Saves a full-page screenshot as test-output/screenshots/{name}.png (at the repository's root), for people to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(new URL('../../..', import.meta.url).pathname, 'test-output', 'screenshots');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
