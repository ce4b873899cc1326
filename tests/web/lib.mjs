// SPDX-License-Identifier: Apache-2.0
// Shared by the browser checks: argument parsing, Chromium launch, result reporting and exit codes.
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

// Exit codes the C++ tests check.
export const EXIT_OK = 0;
export const EXIT_ERROR = 1; // bad arguments, browser failure, page error
export const EXIT_TIMEOUT = 2; // the expected state did not arrive in time
export const EXIT_REFUSED = 3; // the server refused or dropped the connection (reason reported)
export const EXIT_CHECK_FAILED = 4; // the page loaded but a check on it failed

// `--name value` pairs and `--flag` booleans; unknown options are an error (typos must not pass silently).
export function parseArgs(argv, spec) {
  const options = {};
  for (const [name, def] of Object.entries(spec)) options[name] = def.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    if (!name || !(name in spec)) throw new UsageError(`unknown argument ${arg}`);
    if (spec[name].flag) {
      options[name] = true;
      continue;
    }
    if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
    const value = argv[++i];
    options[name] = spec[name].number ? Number(value) : value;
    if (spec[name].number && !Number.isFinite(options[name])) throw new UsageError(`${arg} needs a number`);
  }
  for (const [name, def] of Object.entries(spec)) {
    if (def.required && options[name] === undefined) throw new UsageError(`--${name} is required`);
  }
  return options;
}

export class UsageError extends Error {}

// A failure with its exit code and a reason for the report.
// `details` (e.g. the page's state) go into the report too.
export class CheckError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

// "echo hi\n" on a command line arrives with a literal backslash: turn \n, \t, \\ into the characters.
export function unescape(text) {
  return text.replace(/\\(n|t|\\)/g, (_, c) => ({ n: '\n', t: '\t', '\\': '\\' })[c]);
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.VNCGATE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Root without user namespaces: no sandbox. Small /dev/shm in containers: use /tmp.
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// Decodes a data: URL from canvas.toDataURL() into a file (exact pixels, PNG is lossless).
export function writeDataUrl(dataUrl, path) {
  const prefix = 'data:image/png;base64,';
  if (!dataUrl.startsWith(prefix)) throw new CheckError(EXIT_ERROR, 'canvas did not give a PNG data URL');
  writeFileSync(path, Buffer.from(dataUrl.slice(prefix.length), 'base64'));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs `body(report)` with a browser page; prints the report as one JSON line (and to --report) and exits with
// the code of the outcome. Page errors and console errors go into the report for diagnosis.
export async function runCheck(argSpec, body) {
  const report = { ok: false, exit_code: EXIT_ERROR, reason: '', page_errors: [] };
  let options;
  let browser;
  try {
    options = parseArgs(process.argv.slice(2), argSpec);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => report.page_errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') report.page_errors.push('console: ' + m.text());
    });
    await body(page, options, report);
    report.ok = true;
    report.exit_code = EXIT_OK;
  } catch (e) {
    if (e instanceof CheckError) Object.assign(report, e.details);
    report.exit_code = e instanceof CheckError ? e.code : EXIT_ERROR;
    report.reason = e instanceof UsageError ? 'usage: ' + e.message : e.message;
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
  const text = JSON.stringify(report);
  console.log(text);
  if (options && options.report) writeFileSync(options.report, text + '\n');
  process.exit(report.exit_code);
}
