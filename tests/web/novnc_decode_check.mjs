// SPDX-License-Identifier: Apache-2.0
// The differential check of the gateway's encoders against noVNC's decoders: loads novnc_decode_page.js and the
// web root's noVNC (what /console pages use) into Chromium, runs a trace written by
// tests/integration/novnc_differential_test.cpp through them and reports every comparison.
//
//   node novnc_decode_check.mjs --trace FILE --novnc DIR [--seed N] [--max-chunk N] [--min-psnr DB]
//                               [--out-dir DIR] [--report FILE]
// Exit codes (lib.mjs): 0 every update decoded to the gateway's picture; 4 a difference or a decoder error (the
// first one is reported, with the canvas as PNG in --out-dir); 1 anything else.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckError, EXIT_CHECK_FAILED, runCheck, writeDataUrl } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const origin = 'http://vncgate.test';

await runCheck(
  {
    trace: { required: true },
    novnc: { required: true },
    seed: { number: true, default: 1 },
    'max-chunk': { number: true, default: 4096 },
    'min-psnr': { number: true, default: 30 },
    'out-dir': { default: '.' },
    report: {},
    'ready-file': {},
  },
  async (page, options, report) => {
    // Everything comes from disk through the router: no server, no network.
    await page.route(`${origin}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      const type = (p) => (p.endsWith('.js') ? 'text/javascript' : 'application/octet-stream');
      if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>noVNC decode</title>' });
      if (path === '/harness.js') return route.fulfill({ contentType: type(path), body: readFileSync(join(here, 'novnc_decode_page.js')) });
      if (path === '/trace') {  // in pieces: ?offset=N&length=N
        const query = new URL(route.request().url()).searchParams;
        const piece = Buffer.alloc(Number(query.get('length')));
        const fd = openSync(options.trace, 'r');
        const n = readSync(fd, piece, 0, piece.length, Number(query.get('offset')));
        closeSync(fd);
        return route.fulfill({ contentType: type(path), body: piece.subarray(0, n) });
      }
      if (path.startsWith('/novnc/')) {
        const file = normalize(join(options.novnc, path.slice('/novnc/'.length)));
        if (!file.startsWith(normalize(options.novnc))) return route.fulfill({ status: 403 });
        return route.fulfill({ contentType: type(file), path: file });
      }
      return route.fulfill({ status: 404 });
    });
    await page.goto(`${origin}/`);
    const result = await page.evaluate(
      async (opts) => (await import('/harness.js')).run('/trace', opts),
      { seed: options.seed, maxChunk: options['max-chunk'], minPsnr: options['min-psnr'] },
    );
    for (const m of result.mismatches) {
      if (!m.canvas) continue;
      const file = join(options['out-dir'], `novnc-viewer${m.viewer}-step${m.step}.png`);
      writeDataUrl(m.canvas, file);
      m.canvas = file;
    }
    Object.assign(report, result);
    if (result.mismatches.length > 0) {
      const m = result.mismatches[0];
      throw new CheckError(EXIT_CHECK_FAILED, `viewer ${m.viewer} (${m.label}) at step ${m.step ?? '?'}: ${m.error}`, result);
    }
  },
);
