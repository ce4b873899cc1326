// SPDX-License-Identifier: Apache-2.0
// Opens a console page, waits until noVNC shows the remote desktop, saves the canvas at native size, and can
// type through the page. Exit codes: see lib.mjs (3 = refused or dropped, with the page's reason).
//   node console_check.mjs --url URL [--out canvas.png] [--type "echo hi\n" --out-after after.png]
//        [--page-out page.png] [--timeout-ms 20000] [--report report.json]
//        [--blinking]: the screen blinks (a console cursor) until the typed commands hide it: type once connected
//        rather than once the canvas holds still
//        [--park-pointer]: after typing, move the pointer to the canvas's bottom-right corner (an X server draws
//        it into the picture)
//        [--ready-file F --expect-disconnect-ms N]: once connected (and done typing) write F, then wait up to N ms
//        for the server to end the connection (exit 0 with the page's reason; 2 if it stays connected), so a test
//        can keep a viewer open while it closes the session.
import { writeFileSync } from 'node:fs';
import { CheckError, EXIT_REFUSED, EXIT_TIMEOUT, runCheck, sleep, unescape, writeDataUrl }
  from './lib.mjs';

const spec = {
  url: { required: true },
  out: {},
  'out-after': {},
  'page-out': {},
  'ready-file': {},
  'expect-disconnect-ms': { number: true },
  type: {},
  blinking: { flag: true },
  'park-pointer': { flag: true },
  report: {},
  'timeout-ms': { number: true, default: 20000 },
  'settle-ms': { number: true, default: 600 },
};

const pageState = () =>
  window.vncgateConsole
    ? {
        state: window.vncgateConsole.state,
        reason: window.vncgateConsole.reason,
        frames: window.vncgateConsole.frames,
        status: document.getElementById('status').textContent,
        view_only_badge: !document.getElementById('view-only-badge').hidden,
      }
    : null;

const canvasPng = () => {
  const canvas = window.vncgateConsole.canvas();
  return canvas && canvas.width > 0 ? canvas.toDataURL('image/png') : '';
};

// Polls the page until `done(state)`; a disconnect meanwhile is exit 3 with the page's reason.
async function waitFor(page, deadline, what, done) {
  for (;;) {
    const state = await page.evaluate(pageState);
    if (state && state.state === 'disconnected') {
      throw new CheckError(EXIT_REFUSED, 'disconnected: ' + state.reason, state);
    }
    if (state && done(state)) return state;
    if (Date.now() > deadline) {
      throw new CheckError(EXIT_TIMEOUT, `timed out waiting for ${what} (status: ${state ? state.status : 'no page'})`,
        state || {});
    }
    await sleep(100);
  }
}

// The same canvas content twice `settleMs` apart: the initial full update has been drawn.
async function settledCanvas(page, deadline, settleMs) {
  let previous = await page.evaluate(canvasPng);
  for (;;) {
    await sleep(settleMs);
    await waitFor(page, deadline, 'the canvas', () => true);
    const current = await page.evaluate(canvasPng);
    if (current && current === previous) return current;
    if (Date.now() > deadline) throw new CheckError(EXIT_TIMEOUT, 'the canvas kept changing');
    previous = current;
  }
}

runCheck(spec, async (page, options, report) => {
  const deadline = Date.now() + options['timeout-ms'];
  await page.goto(options.url, { waitUntil: 'load', timeout: options['timeout-ms'] });
  // Native size, whatever the page defaults to: the PNG must match the server's framebuffer pixel for pixel.
  await page.selectOption('#scaling', 'off');
  await waitFor(page, deadline, 'a connected desktop', (s) => s.state === 'connected' && s.frames > 0);
  const shot = options.blinking ? await page.evaluate(canvasPng)
                                : await settledCanvas(page, deadline, options['settle-ms']);
  if (options.out) writeDataUrl(shot, options.out);
  Object.assign(report, await page.evaluate(pageState));
  report.width = await page.evaluate(() => window.vncgateConsole.canvas().width);
  report.height = await page.evaluate(() => window.vncgateConsole.canvas().height);

  if (options.type !== undefined) {
    await page.click('#screen canvas');
    await page.keyboard.type(unescape(options.type), { delay: 30 });
    if (options['park-pointer']) {
      const box = await page.locator('#screen canvas').boundingBox();
      await page.mouse.move(box.x + box.width - 1, box.y + box.height - 1);
    }
    // Wait for the echo to come back (view-only pages must not change: then this waits the settle time only).
    const changeDeadline = Math.min(deadline, Date.now() + 5000);
    let after = shot;
    while (after === shot && Date.now() < changeDeadline) {
      await sleep(100);
      after = await page.evaluate(canvasPng);
    }
    after = await settledCanvas(page, deadline, options['settle-ms']);
    report.changed_after_type = after !== shot;
    if (options['out-after']) writeDataUrl(after, options['out-after']);
  }
  Object.assign(report, await page.evaluate(pageState));
  if (options['ready-file']) writeFileSync(options['ready-file'], 'ready\n');
  if (options['expect-disconnect-ms'] !== undefined) {
    const end = Date.now() + options['expect-disconnect-ms'];
    for (;;) {
      const state = await page.evaluate(pageState);
      if (state.state === 'disconnected') break;
      if (Date.now() > end) throw new CheckError(EXIT_TIMEOUT, 'still connected', state);
      await sleep(100);
    }
    Object.assign(report, await page.evaluate(pageState));
  }
  if (options['page-out']) await page.screenshot({ path: options['page-out'] });
});
