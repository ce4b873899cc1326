// SPDX-License-Identifier: Apache-2.0
// The dashboard (/): recordings and live sessions, polled every 2 s from the REST API. Everything from the
// server is inserted as text (textContent, attributes), never as HTML; URLs must be paths on this server.

const POLL_MS = 2000;
const KEY_STORAGE = 'vncgate-api-key';
const TERMINAL = new Set(['done', 'failed', 'cancelled']);

const $ = (id) => document.getElementById(id);

// ---- small DOM helpers -------------------------------------------------------------------------------------

// el('td', {class: 'x'}, 'text', childNode…): strings become text nodes, so data can never become markup.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replaces a node's children; null/undefined are skipped, strings become text.
function setChildren(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

// A server-given link is used only when it is a path on this server ("javascript:" or "//host" are not).
export function sameOriginPath(url) {
  return typeof url === 'string' && /^\/(?![/\\])/.test(url) ? url : null;
}

export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
}

export function formatSeconds(s) {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '–';
  if (s < 60) return s.toFixed(1) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function age(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '–' : formatSeconds(Math.max(0, (Date.now() - t) / 1000));
}

function showNotice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

// ---- API access with an optional key ---------------------------------------------------------------------

let apiKey = sessionStorage.getItem(KEY_STORAGE) || '';
let askedForKey = false;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function updateKeyButtons(needKey) {
  $('forget-key').hidden = !apiKey;
  $('api-key').hidden = !needKey;
}

function askForKey() {
  const entered = window.prompt('This server needs an API key (kept in this tab only):');
  if (entered === null || entered.trim() === '') return false;
  apiKey = entered.trim();
  sessionStorage.setItem(KEY_STORAGE, apiKey);
  updateKeyButtons(false);
  return true;
}

// fetch() with the key; a 401 asks for a key once per page load (then the "Enter API key" button) and retries.
async function request(method, path, { body, raw = false, signal } = {}) {
  for (;;) {
    const usedKey = apiKey;
    const headers = {};
    if (usedKey) headers.Authorization = 'Bearer ' + usedKey;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      if (apiKey && apiKey !== usedKey) continue; // a parallel request got a new key meanwhile
      if (!askedForKey) {
        askedForKey = true;
        if (askForKey()) continue;
      }
      updateKeyButtons(true);
      throw new ApiError(401, 'unauthorized', 'the server needs an API key');
    }
    if (!response.ok) {
      let code = 'http_' + response.status;
      let message = response.statusText || 'request failed';
      try {
        const error = (await response.json()).error;
        if (error && typeof error.code === 'string') code = error.code;
        if (error && typeof error.message === 'string') message = error.message;
      } catch {
        // not the API's JSON error shape: keep the status line
      }
      throw new ApiError(response.status, code, `${method} ${path}: ${message}`);
    }
    if (raw) return response;
    if (response.status === 204) return null;
    return response.json();
  }
}

// Media for <img>/<video>: with a key the element cannot send the header, so fetch a blob and use its URL.
const objectUrls = new Map(); // element -> object URL to revoke when replaced
async function setMediaSource(element, path) {
  const safe = sameOriginPath(path);
  if (!safe) return;
  if (!apiKey) {
    element.src = safe;
    return;
  }
  showBlob(element, await (await request('GET', safe, { raw: true })).blob());
}

// `element` shows `blob` through an object URL, the one it showed before revoked; returns the URL.
function showBlob(element, blob) {
  const url = URL.createObjectURL(blob);
  dropObjectUrl(element);
  objectUrls.set(element, url);
  element.src = url;
  return url;
}

function dropObjectUrl(element) {
  if (objectUrls.has(element)) URL.revokeObjectURL(objectUrls.get(element));
  objectUrls.delete(element);
}

// A download link that also works with a key (then through a blob).
function downloadLink(path, name, label) {
  const safe = sameOriginPath(path);
  if (!safe) return el('span', {}, label);
  return el('a', {
    href: safe,
    download: name,
    onclick: async (event) => {
      if (!apiKey) return;
      event.preventDefault();
      try {
        const blob = await (await request('GET', safe, { raw: true })).blob();
        const url = URL.createObjectURL(blob);
        el('a', { href: url, download: name }).click();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (e) {
        showNotice(e.message);
      }
    },
  }, label);
}

// Keeps one <tr> per key in `tbody`, in the order of `items`; rows survive polls so clicks and media do too.
function syncRows(tbody, items, key, create, update, emptyText, columns) {
  const existing = new Map([...tbody.querySelectorAll('tr[data-key]')].map((row) => [row.dataset.key, row]));
  const rows = items.map((item) => {
    const k = key(item);
    let row = existing.get(k);
    if (!row) {
      row = create(item);
      row.dataset.key = k;
    }
    existing.delete(k);
    update(row, item);
    return row;
  });
  for (const stale of existing.values()) {
    stale.querySelectorAll('img, video').forEach((m) => {
      dropObjectUrl(m);
    });
  }
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { class: 'empty', colspan: columns }, emptyText)));
  tbody.replaceChildren(...rows);
}

// ---- recordings ------------------------------------------------------------------------------------------

const jobDetails = new Map(); // job_id -> {updated_at, job} (the list has no segments)

async function jobWithSegments(summary) {
  // Unchanged since the last look (always so for finished jobs): no request.
  const cached = jobDetails.get(summary.job_id);
  if (cached && cached.updated_at === summary.updated_at) return cached.job;
  const job = await request('GET', '/api/v1/recordings/' + encodeURIComponent(summary.job_id));
  jobDetails.set(summary.job_id, { updated_at: summary.updated_at, job });
  return job;
}

function progressCell(job) {
  const p = job.progress;
  if (!p) return job.failure_reason ? el('span', { class: 'error' }, job.failure_reason) : '–';
  return el('div', {},
    el('progress', { max: p.total_s > 0 ? p.total_s : 1, value: Math.min(p.elapsed_s || 0, p.total_s || 0) }),
    el('div', { class: 'meta' }, `segment ${p.segment ?? 1}/${p.count}, ${formatSeconds(p.elapsed_s)} of ` +
      `${formatSeconds(p.total_s)}, ${p.frames} frames`));
}

// Recordings are H.264 High 4:4:4 by default (sharp coloured text): Chromium decodes it, Safari, hardware
// decoders and some Firefox builds do not. Say so instead of leaving a black player.
function explainVideoError(video) {
  if (!video.error || video.error.code === MediaError.MEDIA_ERR_ABORTED) return;
  showNotice('This browser cannot play this recording (' + (video.error.message || 'MediaError ' + video.error.code) +
    '). 4:4:4 recordings play in Chromium/Chrome, VLC and mpv; download it, or record with chroma 4:2:0.');
}

// The server's picture at an instant of a job that recorded FBS (a seek in the FBS recording from its checkpoint
// before it: tens of ms, where the browser decodes from the MP4's keyframe) lies over the video until the video
// shows that instant itself. Two ways in:
// - the scrub bar under the video (shown for such jobs): dragging shows the picture of each instant; on release
//   the video seeks there once the picture is up (or could not be had), so the video's own decoding never
//   delays the picture on a busy machine;
// - the video's own controls: the picture is asked for when the video starts seeking.
// One request at a time, the newest instant next; a picture that arrives after it stopped mattering is not shown.
let pictureGeneration = 0;  // a new segment in the player ends the pictures of the one before
function seekPictures(player, video, frameUrl) {
  const img = player.querySelector('img.seek-preview');
  const scrub = player.querySelector('input.scrub');
  const generation = ++pictureGeneration;
  const live = () => generation === pictureGeneration;
  let wanted = null;  // the newest instant asked for: {t, stillWanted}
  let inFlight = null;  // the instant being fetched
  let seekAfterPicture = null;  // the scrub bar's instant the video seeks to once its picture is shown
  let dragging = false;
  const same = (a, b) => a !== null && b !== null && Math.abs(a - b) < 0.001;
  const hide = () => {
    img.onload = null;
    img.onerror = null;
    img.hidden = true;
    delete img.dataset.t;
    dropObjectUrl(img);
    img.removeAttribute('src');
  };
  const showing = (t) => !img.hidden && same(Number(img.dataset.t), t);
  const seekVideo = (t) => {
    if (!live() || !same(seekAfterPicture, t)) return;
    seekAfterPicture = null;
    video.currentTime = t;
  };
  async function next() {
    if (inFlight !== null || wanted === null || !live()) return;
    const { t, stillWanted } = wanted;
    wanted = null;
    inFlight = t;
    try {
      // As wide as the player shows it (the server samples the picture down to it): less to make, send and decode.
      const shown = Math.ceil(video.clientWidth * (window.devicePixelRatio || 1));
      const width = Math.min(4096, Math.max(16, Math.min(video.videoWidth || 1280, shown || 1280)));
      // Only the request holds the queue (never the image: a decode that never ends must not stop pictures).
      const response = await request('GET', `${frameUrl}?t=${t.toFixed(3)}&width=${width}`,
        { raw: true, signal: AbortSignal.timeout(5000) });
      const blob = await response.blob();
      if (live() && stillWanted()) {
        const url = showBlob(img, blob);  // its load event comes after this task
        img.onload = () => {
          if (objectUrls.get(img) !== url || !stillWanted()) return;
          img.dataset.t = String(t);
          img.dataset.source = response.headers.get('X-Frame-Source') || '';
          img.hidden = false;
          seekVideo(t);
        };
        img.onerror = () => seekVideo(t);
      } else {
        seekVideo(t);
      }
    } catch {
      seekVideo(t);  // no picture for this instant: the video shows it when its own seek ends
    } finally {
      inFlight = null;
      next();
    }
  }
  const ask = (t, stillWanted) => {
    wanted = { t, stillWanted };
    next();
  };
  hide();
  scrub.hidden = !frameUrl;
  scrub.value = '0';
  // The video's own seek (its controls, a search hit's offset) asks for the picture when it starts, unless the
  // scrub bar's picture of that instant is up already.
  const videoSeeking = (t) => video.seeking && same(video.currentTime, t);
  video.onseeking = frameUrl ? () => {
    const t = video.currentTime;
    if (!showing(t)) ask(t, () => videoSeeking(t));
  } : null;
  video.onseeked = () => { if (!video.seeking) hide(); };
  video.onemptied = hide;
  video.ondurationchange = () => { scrub.max = String(Number.isFinite(video.duration) ? video.duration : 0); };
  video.ontimeupdate = () => { if (!dragging && seekAfterPicture === null) scrub.value = String(video.currentTime); };
  scrub.oninput = scrub.onchange = scrub.onkeydown = null;  // a segment before may have had a bar
  if (!frameUrl) return;
  const scrubbed = (t) => () => same(Number(scrub.value), t) || same(seekAfterPicture, t);
  scrub.oninput = () => {
    dragging = true;
    const t = Number(scrub.value);
    ask(t, scrubbed(t));
  };
  scrub.onchange = () => {
    dragging = false;
    const t = Number(scrub.value);
    seekAfterPicture = t;
    if (showing(t)) return seekVideo(t);
    if (!same(inFlight, t) && !(wanted && same(wanted.t, t))) ask(t, scrubbed(t));
    setTimeout(() => seekVideo(t), 1000);  // a picture that never loads must not hold the video back
  };
  // The bar's step is "any" (a drag lands anywhere): keys move by 5 s, a page by a minute.
  const keySteps = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -60, PageUp: 60 };
  scrub.onkeydown = (event) => {
    if (!(event.key in keySteps)) return;
    event.preventDefault();
    scrub.value = String(Math.min(Number(scrub.max), Math.max(0, Number(scrub.value) + keySteps[event.key])));
    scrub.oninput();
    scrub.onchange();
  };
}

// Plays a segment in the page's player, from `offset` seconds into it (a search hit) or from its start.
// `previews`: the job recorded FBS, so seeks show the server's picture while the video gets there.
function playSegment(title, jobId, index, url, offset = 0, previews = false) {
  const player = $('player');
  const video = player.querySelector('video');
  video.onerror = () => explainVideoError(video);
  seekPictures(player, video, previews ? `/api/v1/recordings/${encodeURIComponent(jobId)}/segments/${Number(index)}/frame` : null);
  // Seek once the metadata is there (before that, currentTime does not stick); a replaced source cancels it.
  video.onloadedmetadata = offset > 0 ? () => {
    video.onloadedmetadata = null;
    video.currentTime = Math.min(offset, Number.isFinite(video.duration) ? video.duration : offset);
  } : null;
  $('player-title').textContent = title;
  player.hidden = false;
  player.dataset.jobId = jobId;
  player.dataset.segment = String(index);
  player.dataset.offset = String(offset);
  setMediaSource(video, url).then(() => video.load()).catch((e) => showNotice(e.message));
}

// The job recorded FBS files (the full job, as GET /api/v1/recordings/{id} gives it): seeks can show its pictures.
function recordsFbs(job) {
  return Array.isArray(job.files) && job.files.some((f) => /\.fbs$/.test(f.name));
}

function play(job, segment) {
  playSegment(`${job.server} — segment ${segment.index} (${formatSeconds(segment.duration)})`, job.job_id,
    segment.index, segment.url, 0, recordsFbs(job));
}

function segmentsCell(job) {
  const segments = Array.isArray(job.segments) ? job.segments : [];
  if (segments.length === 0) return '–';
  return el('ul', { class: 'segments' }, segments.map((s) => {
    const playable = s.state === 'finished' || s.state === 'uploaded';
    return el('li', { 'data-index': s.index, 'data-state': s.state },
      `#${s.index} `, el('span', { class: 'state state-' + s.state }, s.state),
      ` ${formatBytes(s.bytes)}, ${formatSeconds(s.duration)} `,
      playable ? el('button', { type: 'button', class: 'play', 'data-index': s.index, onclick: () => play(job, s) }, 'Play') : null,
      ' ',
      playable ? downloadLink(s.url, `${job.job_id}-${s.index}.mp4`, 'Download') : null,
      s.error ? el('div', { class: 'error' }, s.error) : null);
  }));
}

function createJobRow(job) {
  const thumb = el('img', { class: 'thumb', alt: 'latest frame', hidden: true });
  thumb.addEventListener('load', () => {
    thumb.hidden = false;
    thumb.dataset.loaded = '1';
  });
  thumb.addEventListener('error', () => {
    thumb.hidden = true;
  });
  const cancel = el('button', { type: 'button', class: 'cancel' }, 'Cancel');
  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await request('DELETE', '/api/v1/recordings/' + encodeURIComponent(job.job_id));
      refresh();
    } catch (e) {
      showNotice(e.message);
      cancel.disabled = false;
    }
  });
  return el('tr', { 'data-job-id': job.job_id },
    el('td', { class: 'mono', title: job.job_id }, job.job_id.slice(0, 8)),
    el('td'), el('td'), el('td'), el('td'), el('td', {}, thumb), el('td', { class: 'actions' }, cancel));
}

function updateJobRow(row, job) {
  const [id, server, state, progress, segments, , actions] = row.children;
  setChildren(id, job.job_id.slice(0, 8), el('div', { class: 'meta' }, age(job.created_at) + ' ago'));
  server.textContent = job.server + (job.provider ? ` (${job.provider})` : '');
  setChildren(state, el('span', { class: 'state state-' + job.state }, job.state),
    job.reconnects > 0 ? el('div', { class: 'meta' }, `${job.reconnects} reconnects`) : null);
  row.dataset.state = job.state;
  setChildren(progress, progressCell(job));
  // Rebuild segments only when they changed, so a click in progress is not lost.
  const signature = JSON.stringify(job.segments || []);
  if (segments.dataset.signature !== signature) {
    segments.dataset.signature = signature;
    setChildren(segments, segmentsCell(job));
  }
  actions.querySelector('.cancel').hidden = TERMINAL.has(job.state);
  const thumb = row.querySelector('img.thumb');
  if (thumb.dataset.version !== job.updated_at && job.thumbnail_url) {
    thumb.dataset.version = job.updated_at;
    const path = sameOriginPath(job.thumbnail_url);
    // The query string busts the browser cache while the job records (the image changes under one URL).
    if (path) setMediaSource(thumb, path + (path.includes('?') ? '&' : '?') + 'v=' + encodeURIComponent(job.updated_at))
      .catch(() => { thumb.hidden = true; });
  }
}

async function refreshRecordings() {
  const list = await request('GET', '/api/v1/recordings?limit=50');
  const summaries = Array.isArray(list.recordings) ? list.recordings : [];
  const jobs = await Promise.all(summaries.map((s) => jobWithSegments(s).catch(() => s)));
  syncRows($('recordings').tBodies[0], jobs, (j) => j.job_id, createJobRow, updateJobRow, 'No recordings yet.', 7);
}

// ---- search ----------------------------------------------------------------------------------------------

let searchCursor = null; // the next page of the last search, or null
let searchQuery = null; // the query string of the last search (without cursor)

// datetime-local gives local wall-clock time without a zone; the API wants UTC ("…Z").
export function localInputToUtc(value) {
  if (!value) return null;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? null : t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function searchHitRow(hit) {
  const when = Date.parse(hit.at);
  const segmentUrl = sameOriginPath(hit.segment_url);
  const offset = Number(hit.offset_s) || 0;
  const title = `${hit.server} — segment ${hit.segment} at ${formatSeconds(offset)}`;
  // The picture at that instant, decoded by the server from the segment (hidden when it cannot be had).
  const frame = el('img', { class: 'thumb frame', alt: `screen at ${formatSeconds(offset)}`, loading: 'lazy' });
  frame.addEventListener('error', () => { frame.hidden = true; });
  setMediaSource(frame, hit.frame_url).catch(() => { frame.hidden = true; });
  return el('tr', { class: 'hit', 'data-job-id': hit.recording_id, 'data-segment': hit.segment, 'data-offset': offset },
    el('td', {}, Number.isNaN(when) ? '–' : new Date(when).toLocaleString()),
    el('td', {}, hit.server),
    el('td', {}, el('span', { class: 'mono' }, String(hit.recording_id).slice(0, 8)), ` #${hit.segment} `,
      el('span', { class: 'meta' }, '+' + formatSeconds(offset))),
    el('td', { class: 'line mono' }, hit.line, el('div', {}, frame)),
    el('td', { class: 'actions' },
      segmentUrl ? el('button', {
        type: 'button', class: 'play-hit',
        onclick: async () => {
          let previews = false;
          try {
            previews = recordsFbs(await request('GET', '/api/v1/recordings/' + encodeURIComponent(hit.recording_id)));
          } catch {
            // plays without seek pictures
          }
          playSegment(title, hit.recording_id, hit.segment, segmentUrl, offset, previews);
          $('player').scrollIntoView({ block: 'nearest' });
        },
      }, 'Play from here') : null,
      hit.transcript_url ? downloadLink(hit.transcript_url, `${hit.recording_id}-${hit.segment}.transcript.jsonl`,
        'Transcript') : null));
}

async function runSearch(more) {
  const status = $('search-status');
  const tbody = $('search-hits').tBodies[0];
  if (!more) {
    const form = $('search');
    const params = new URLSearchParams({ q: form.elements.q.value.trim(), limit: '50' });
    if (form.elements.server.value.trim()) params.set('server', form.elements.server.value.trim());
    const from = localInputToUtc(form.elements.from.value);
    const to = localInputToUtc(form.elements.to.value);
    if (from) params.set('from', from);
    if (to) params.set('to', to);
    searchQuery = params.toString();
    searchCursor = null;
    tbody.replaceChildren();
  }
  const path = '/api/v1/search?' + searchQuery + (searchCursor ? '&cursor=' + encodeURIComponent(searchCursor) : '');
  status.textContent = 'Searching…';
  try {
    const result = await request('GET', path);
    const hits = Array.isArray(result.hits) ? result.hits : [];
    tbody.append(...hits.map(searchHitRow));
    searchCursor = typeof result.next_cursor === 'string' ? result.next_cursor : null;
    const shown = tbody.rows.length;
    status.textContent = shown === 0 ? 'No recording has this text.' : `${shown} line${shown === 1 ? '' : 's'} found` +
      (searchCursor ? ', more below.' : '.');
    $('search-hits').hidden = shown === 0;
    $('search-more').hidden = !searchCursor;
  } catch (e) {
    status.textContent = 'Search failed: ' + e.message;
  }
}

// ---- live sessions ---------------------------------------------------------------------------------------

function openConsole(link) {
  const path = sameOriginPath(link && link.url);
  if (!path) throw new Error('the server returned no console link');
  window.open(path, '_blank', 'noopener');
}

function createSessionRow(session) {
  const close = el('button', { type: 'button', class: 'close' }, 'Close');
  close.addEventListener('click', async () => {
    close.disabled = true;
    try {
      await request('DELETE', '/api/v1/sessions/' + encodeURIComponent(session.session_id));
      refresh();
    } catch (e) {
      showNotice(e.message);
      close.disabled = false;
    }
  });
  const viewLink = el('button', { type: 'button', class: 'view-link' }, 'Open view-only link');
  viewLink.addEventListener('click', async () => {
    try {
      openConsole(await request('POST', '/api/v1/sessions/' + encodeURIComponent(session.session_id) + '/links',
        { body: { view_only: true, ttl: 60 } }));
    } catch (e) {
      showNotice(e.message);
    }
  });
  return el('tr', { 'data-session-id': session.session_id },
    el('td'), el('td'), el('td'), el('td'), el('td'), el('td', { class: 'actions' }, viewLink, close));
}

function updateSessionRow(row, s) {
  const [target, state, viewers, sessionAge, traffic] = row.children;
  setChildren(target, s.target, s.recording ? el('span', { class: 'badge' }, 'recording') : null);
  setChildren(state, el('span', { class: 'state state-' + s.state }, s.state));
  row.dataset.state = s.state;
  viewers.textContent = `${s.viewers}` + (s.view_only_viewers ? ` (${s.view_only_viewers} view-only)` : '');
  sessionAge.textContent = age(s.created_at);
  traffic.textContent = `${formatBytes(s.bytes_to_viewers)}, ${s.frames ?? 0} frames` +
    (s.width && s.height ? `, ${s.width}×${s.height}` : '');
}

async function refreshSessions() {
  const list = await request('GET', '/api/v1/sessions');
  const sessions = Array.isArray(list.sessions) ? list.sessions : [];
  syncRows($('sessions').tBodies[0], sessions, (s) => s.session_id, createSessionRow, updateSessionRow,
    'No live sessions.', 6);
}

// ---- forms and polling -----------------------------------------------------------------------------------

function numberField(form, name) {
  const value = form.elements[name].value.trim();
  return value === '' ? undefined : Number(value);
}

function wireForms() {
  $('new-recording').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = {
      server: form.elements.server.value.trim(),
      duration: numberField(form, 'duration'),
      count: numberField(form, 'count'),
      provider: form.elements.provider.value || undefined,
      fps: numberField(form, 'fps'),
      quality: numberField(form, 'quality'),
      chroma: form.elements.chroma.value || undefined,
      fbs: form.elements.fbs.checked || undefined,
    };
    try {
      await request('POST', '/api/v1/recordings', { body });
      showNotice('');
      refresh();
    } catch (e) {
      showNotice(e.message);
    }
  });
  $('new-session').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      openConsole(await request('POST', '/api/v1/sessions', {
        body: {
          target: form.elements.target.value.trim(),
          ttl: numberField(form, 'ttl'),
          view_only: form.elements.view_only.checked,
          record: form.elements.record.checked,
        },
      }));
      showNotice('');
      refresh();
    } catch (e) {
      showNotice(e.message);
    }
  });
  $('close-all').addEventListener('click', async () => {
    if (!window.confirm('Close every live session and disconnect all its viewers?')) return;
    try {
      const result = await request('DELETE', '/api/v1/sessions');
      showNotice(`Closed ${Number(result && result.closed) || 0} sessions.`);
      refresh();
    } catch (e) {
      showNotice(e.message);
    }
  });
  $('search').addEventListener('submit', (event) => {
    event.preventDefault();
    runSearch(false);
  });
  $('search-more').addEventListener('click', () => runSearch(true));
  $('api-key').addEventListener('click', () => {
    if (askForKey()) refresh();
  });
  $('forget-key').addEventListener('click', () => {
    apiKey = '';
    sessionStorage.removeItem(KEY_STORAGE);
    updateKeyButtons(false);
  });
}

let refreshing = null;
async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    const results = await Promise.allSettled([refreshRecordings(), refreshSessions()]);
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    $('refresh-status').textContent = failed.length
      ? 'Update failed: ' + failed.join('; ')
      : 'Updated ' + new Date().toLocaleTimeString();
    document.body.dataset.lastRefresh = String(Date.now());
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

wireForms();
updateKeyButtons(false);
refresh();
setInterval(refresh, POLL_MS);
