// SPDX-License-Identifier: Apache-2.0
// Opens the dashboard, waits for the recording row of --job to reach --state, checks that its thumbnail loaded
// and that a finished segment plays in the page's <video> (readyState >= 2, duration > 0, Chromium decoded
// frames, currentTime advances), saves a screenshot. With --frame-out the picture the browser decoded is saved
// as a PNG (drawn from the paused <video> into a canvas) for the caller to compare with the server's
// framebuffer. With --search WORDS the page's search box is used: a hit of --job must be listed with a line
// containing WORDS, and "Play from here" must load its segment into the player seeked to the hit's offset.
// With --seek-previews N the paused player is seeked to N instants (fixed seed, 300 ms apart): for each, the
// time to the seek preview (the server's picture over the video, shown while the video seeks) and to the
// video's 'seeked', and every frame request the page made (status, X-Frame-Source). With --scrub N the player's
// scrub bar is moved to N instants (as a drag released there: input, then change): for each, the time to the
// server's picture, to the video's 'seeking' (which must come after the picture) and to its 'seeked'; then one
// arrow key on the bar (report.scrub_key: from, expected, the picture's instant, where the video ended).
// With --api-key the page's key prompt (after a 401) is answered with it. Exit codes: see lib.mjs.
//   node dashboard_check.mjs --url http://HOST:PORT/ --job ID [--state done] [--segment 1] (1-based, as in the API) [--api-key KEY]
//        [--search WORDS] [--seek-previews N] [--scrub N] [--out page.png] [--frame-out frame.png] [--no-thumbnail] [--no-video] [--timeout-ms 60000]
//        [--report report.json] [--ready-file F] (written when all checks passed)
import { writeFileSync } from 'node:fs';
import { CheckError, EXIT_CHECK_FAILED, EXIT_TIMEOUT, runCheck, sleep, writeDataUrl } from './lib.mjs';

const spec = {
  url: { required: true },
  job: { required: true },
  state: { default: 'done' },
  segment: { default: '1' },
  'api-key': {},
  out: {},
  'frame-out': {},
  report: {},
  'ready-file': {},
  'no-thumbnail': { flag: true },
  'no-video': { flag: true },
  search: {},
  'seek-previews': { number: true },
  scrub: { number: true },
  'timeout-ms': { number: true, default: 60000 },
};

const TERMINAL = ['done', 'failed', 'cancelled'];

// Seeks the paused player to `samples` instants (fixed seed, 300 ms apart), `how` = 'video' (currentTime set, as
// the video's controls do) or 'scrub' (the scrub bar released there: input, then change), and times each from
// its start: to the server's picture of the instant over the video (preview_ms, with its X-Frame-Source and
// width), to the video's 'seeking' and 'seeked'. With 'scrub', one arrow key on the bar after them (key: from,
// expected, the instant of the picture shown, where the video ended).
async function timeSeeks(page, samples, how) {
  return page.evaluate(async ({ samples, how }) => {
    const video = document.querySelector('#player video');
    const img = document.querySelector('#player img.seek-preview');
    const scrub = document.querySelector('#player input.scrub');
    if (how === 'scrub' && scrub.hidden) return { seeks: [], key: null };
    video.pause();
    let state = how === 'scrub' ? 4242 : 42;
    const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
    const timed = (t, go) => new Promise((resolve) => {
      const start = performance.now();
      const seek = { t };
      const observer = new MutationObserver(() => {
        if (img.hidden) return;
        seek.picture_t = Number(img.dataset.t);
        if (seek.preview_ms !== undefined || Math.abs(seek.picture_t - t) > 0.001) return;
        seek.preview_ms = performance.now() - start;
        seek.preview_source = img.dataset.source;
        seek.preview_width = img.naturalWidth;
      });
      observer.observe(img, { attributes: true });
      video.addEventListener('seeking', () => { seek.seeking_ms = performance.now() - start; }, { once: true });
      video.addEventListener('seeked', () => {
        seek.seeked_ms = performance.now() - start;
        seek.current_time = video.currentTime;
        observer.disconnect();
        seek.hidden_after = img.hidden;
        resolve(seek);
      }, { once: true });
      go();
    });
    const release = (t) => {
      scrub.value = String(t);
      scrub.dispatchEvent(new Event('input', { bubbles: true }));
      scrub.dispatchEvent(new Event('change', { bubbles: true }));
    };
    const seeks = [];
    for (let i = 0; i < samples; i++) {
      const t = Math.round(random() * video.duration * 1000) / 1000;
      seeks.push(await timed(t, () => (how === 'scrub' ? release(t) : (video.currentTime = t))));
      await new Promise((ok) => setTimeout(ok, 300)); // a preview still on its way arrives meanwhile
    }
    if (how !== 'scrub') return { seeks, key: null };
    // A key moves the bar by 5 s, through the same picture-first seek.
    const from = video.currentTime;
    const step = from + 5 <= video.duration || from < video.duration / 2 ? 5 : -5;
    const expected = Math.min(video.duration, Math.max(0, from + step));
    const keyed = await timed(expected, () =>
      scrub.dispatchEvent(new KeyboardEvent('keydown', { key: step > 0 ? 'ArrowRight' : 'ArrowLeft', bubbles: true })));
    return { seeks, key: { from, expected, picture_t: keyed.picture_t, current_time: keyed.current_time } };
  }, { samples, how });
}

// Polls `probe` in the page until it returns a truthy value.
async function until(page, deadline, what, probe, arg) {
  for (;;) {
    const value = await page.evaluate(probe, arg);
    if (value) return value;
    if (Date.now() > deadline) throw new CheckError(EXIT_TIMEOUT, `timed out waiting for ${what}`);
    await sleep(200);
  }
}

runCheck(spec, async (page, options, report) => {
  const deadline = Date.now() + options['timeout-ms'];
  report.prompts = 0;
  page.on('dialog', async (dialog) => {
    report.prompts += 1;
    if (dialog.type() === 'prompt' && options['api-key'] !== undefined) await dialog.accept(options['api-key']);
    else await dialog.dismiss();
  });
  report.frame_responses = [];
  page.on('response', (response) => {
    if (!/\/segments\/\d+\/frame\?/.test(response.url())) return;
    report.frame_responses.push({ status: response.status(), source: response.headers()['x-frame-source'] ?? null });
  });
  await page.goto(options.url, { waitUntil: 'load', timeout: options['timeout-ms'] });

  const rowSelector = `tr[data-job-id="${options.job.replace(/[^0-9a-f]/g, '')}"]`;
  // The row in the wanted state; a different terminal state can never change, so fail at once.
  for (;;) {
    const state = await page.evaluate((sel) => document.querySelector(sel)?.dataset.state ?? null, rowSelector);
    report.job_state = state;
    if (state === options.state) break;
    if (state && TERMINAL.includes(state)) {
      throw new CheckError(EXIT_CHECK_FAILED, `job ended ${state}, expected ${options.state}`);
    }
    if (Date.now() > deadline) {
      const status = await page.evaluate(() => document.getElementById('refresh-status').textContent);
      throw new CheckError(EXIT_TIMEOUT, `job row not ${options.state} (now ${state}; page: ${status})`);
    }
    await sleep(250);
  }

  if (!options['no-thumbnail']) {
    const size = await until(page, deadline, 'the thumbnail', (sel) => {
      const img = document.querySelector(sel + ' img.thumb');
      return img && img.complete && img.naturalWidth > 0 ? { width: img.naturalWidth, height: img.naturalHeight } : null;
    }, rowSelector);
    report.thumbnail = size;
  }

  if (!options['no-video']) {
    const button = `${rowSelector} button.play[data-index="${Number(options.segment)}"]`;
    await page.waitForSelector(button, { timeout: Math.max(1, deadline - Date.now()) }).catch(() => {
      throw new CheckError(EXIT_CHECK_FAILED, `no playable segment ${options.segment}`);
    });
    await page.click(button);
    report.video = await until(page, deadline, 'the video to load', () => {
      const video = document.querySelector('#player video');
      if (video.error) return { error: video.error.code };
      return video.readyState >= 2 && video.duration > 0
        ? { ready_state: video.readyState, duration: video.duration, width: video.videoWidth, height: video.videoHeight }
        : null;
    });
    if (report.video.error) throw new CheckError(EXIT_CHECK_FAILED, `the video failed (MediaError ${report.video.error})`);
    // Playing for real, not just metadata: currentTime advances.
    await page.evaluate(() => {
      const video = document.querySelector('#player video');
      video.muted = true;
      return video.play();
    });
    report.played = await until(page, deadline, 'playback', () => document.querySelector('#player video').currentTime > 0);
    // Frames really went through the decoder (a player that only parsed the metadata has none).
    report.decoded = await until(page, deadline, 'decoded frames', () => {
      const video = document.querySelector('#player video');
      const frames = video.getVideoPlaybackQuality().totalVideoFrames;
      return frames > 0 ? { frames, webkit_decoded: video.webkitDecodedFrameCount, current_time: video.currentTime } : null;
    });
    if (options['frame-out']) {
      const url = await page.evaluate(async () => {
        const video = document.querySelector('#player video');
        video.pause();
        await new Promise((resolve) => requestAnimationFrame(() => resolve()));
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        canvas.getContext('2d').drawImage(video, 0, 0);
        return canvas.toDataURL('image/png');
      });
      writeDataUrl(url, options['frame-out']);
    }
  }
  if (options['seek-previews']) report.seeks = (await timeSeeks(page, options['seek-previews'], 'video')).seeks;
  if (options.scrub) {
    const { seeks, key } = await timeSeeks(page, options.scrub, 'scrub');
    report.scrubs = seeks;
    report.scrub_key = key;
  }
  if (options.search !== undefined) {
    await page.fill('#search input[name="q"]', options.search);
    await page.click('#search button[type="submit"]');
    const job = options.job.replace(/[^0-9a-f-]/g, '');
    const hit = await until(page, deadline, 'a search hit of the job', (arg) => {
      const rows = [...document.querySelectorAll('#search-hits tr.hit')].filter((r) => r.dataset.jobId === arg.job);
      const row = rows.find((r) => r.querySelector('.line').textContent.toLowerCase().includes(arg.words.toLowerCase()));
      const img = row && row.querySelector('img.frame');
      if (row && !(img && img.complete && img.naturalWidth > 0)) return null; // the instant's picture loaded
      return row ? { segment: Number(row.dataset.segment), offset: Number(row.dataset.offset), frame_width: img.naturalWidth,
        line: row.querySelector('.line').textContent, hits: rows.length,
        status: document.getElementById('search-status').textContent } : null;
    }, { job, words: options.search });
    report.search = hit;
    await page.click(`#search-hits tr.hit[data-job-id="${job}"][data-segment="${hit.segment}"]` +
      `[data-offset="${hit.offset}"] button.play-hit`);
    report.search_video = await until(page, deadline, 'the hit\'s segment seeked to its offset', (arg) => {
      const player = document.getElementById('player');
      const video = player.querySelector('video');
      if (video.error) return { error: video.error.code };
      if (player.dataset.jobId !== arg.job || Number(player.dataset.segment) !== arg.segment) return null;
      return video.readyState >= 1 && Math.abs(video.currentTime - Math.min(arg.offset, video.duration)) < 0.05
        ? { current_time: video.currentTime, duration: video.duration, ready_state: video.readyState } : null;
    }, { job, segment: hit.segment, offset: hit.offset });
    if (report.search_video.error) {
      throw new CheckError(EXIT_CHECK_FAILED, `the hit's video failed (MediaError ${report.search_video.error})`);
    }
  }
  if (options.out) await page.screenshot({ path: options.out, fullPage: true });
  if (options['ready-file']) writeFileSync(options['ready-file'], 'ready\n');
  report.refresh_status = await page.evaluate(() => document.getElementById('refresh-status').textContent);
});
