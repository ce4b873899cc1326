// SPDX-License-Identifier: Apache-2.0
// The dashboard player's seek (issue 18 item 6): how long headless Chromium takes from setting a <video>'s
// currentTime to its 'seeked' event (the picture at the new position decoded: the browser reads from the
// keyframe before it) at random instants of an MP4 recording, the way the dashboard's player seeks.
// Usage: node bench/video_seek.mjs --file REC.mp4 [--samples 100]
// Prints one JSON line: {ok, samples, median_ms, p95_ms, max_ms, duration_s, ...}.
import { pathToFileURL } from 'node:url';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCheck, CheckError, EXIT_CHECK_FAILED } from '../tests/web/lib.mjs';

const spec = {
  file: { required: true },
  samples: { number: true, default: 100 },
  seed: { number: true, default: 42 },
  report: {},
};

await runCheck(spec, async (page, options, report) => {
  // A page next to nothing but the video, both file: URLs (same origin for the browser's media pipeline).
  const dir = mkdtempSync(join(tmpdir(), 'vncgate-video-seek-'));
  try {
    const html = join(dir, 'seek.html');
    writeFileSync(html, `<!doctype html><video muted preload="auto" src="${pathToFileURL(resolve(options.file))}"></video>`);
    await page.goto(pathToFileURL(html).href);
    Object.assign(
      report,
      await page.evaluate(async ({ samples, seed }) => {
        const video = document.querySelector('video');
        await new Promise((ok, fail) => {
          if (video.readyState >= 2) return ok();
          video.addEventListener('loadeddata', ok, { once: true });
          video.addEventListener('error', () => fail(new Error(`MediaError ${video.error && video.error.code}`)), { once: true });
        });
        // A small fixed-seed generator: the same instants in every run.
        let state = seed >>> 0;
        const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
        const seekTo = (t) =>
          new Promise((ok) => {
            const start = performance.now();
            video.addEventListener('seeked', () => ok(performance.now() - start), { once: true });
            video.currentTime = t;
          });
        await seekTo(0);
        const times = [];
        for (let i = 0; i < samples; i++) times.push(await seekTo(random() * video.duration));
        const decoded = video.getVideoPlaybackQuality().totalVideoFrames;
        times.sort((a, b) => a - b);
        const at = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
        return {
          duration_s: video.duration,
          width: video.videoWidth,
          height: video.videoHeight,
          samples,
          median_ms: at(0.5),
          p95_ms: at(0.95),
          max_ms: times[times.length - 1],
          frames_presented: decoded,
        };
      }, { samples: options.samples, seed: options.seed }),
    );
    if (!(report.width > 0)) throw new CheckError(EXIT_CHECK_FAILED, 'the video did not decode');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
