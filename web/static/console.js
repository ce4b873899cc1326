// SPDX-License-Identifier: Apache-2.0
// The console page (/console/{token}): noVNC's RFB client on the gateway's WebSocket /ws/{token}. The page
// only ever holds the one-time token; upstream credentials stay on the server.
import RFB from '/novnc/core/rfb.js';

// The token is the last path segment of /console/{token}.
export function tokenFromPath(pathname) {
  const segments = pathname.split('/').filter((s) => s !== '');
  return segments.length > 0 ? decodeURIComponent(segments[segments.length - 1]) : '';
}

// ws(s)://<this host>/ws/<token>, or ?ws_path=/some/path (test harness) on this same origin. Throws Error for a
// ws_path that is not an absolute path or that would leave this host ("//evil", "/\evil" are host references).
export function websocketUrl(location, token, wsPath) {
  let path = '/ws/' + encodeURIComponent(token);
  if (wsPath !== null && wsPath !== undefined) {
    if (!/^\/(?![/\\])/.test(wsPath) || /[\\\u0000-\u001f]/.test(wsPath)) {
      throw new Error('ws_path must be a path on this server, such as /websockify');
    }
    path = wsPath;
  }
  const url = new URL(path, location.href);
  if (url.host !== location.host) throw new Error('ws_path must stay on this server');
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  return url.href;
}

const $ = (id) => document.getElementById(id);

// What the page shows and what the test harness reads (window.vncgateConsole, body[data-state]).
const consoleState = {
  state: 'connecting',
  reason: '',
  frames: 0,
  width: 0,
  height: 0,
  clipboard: '',
  rfb: null,
  canvas: () => $('screen').querySelector('canvas'),
};
window.vncgateConsole = consoleState;

function setState(state, reason = '') {
  consoleState.state = state;
  consoleState.reason = reason;
  document.body.dataset.state = state;
  const labels = { connecting: 'Connecting…', connected: 'Connected', disconnected: 'Disconnected' };
  $('status').textContent = labels[state] + (reason ? ': ' + reason : '');
  const connected = state === 'connected';
  $('ctrl-alt-del').disabled = !connected || viewOnly;
  $('clipboard-send').disabled = !connected || viewOnly;
  $('reconnect').hidden = state !== 'disconnected';
}

function showNotice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

const params = new URLSearchParams(location.search);
const viewOnly = params.get('view_only') === '1';
const wsPath = params.get('ws_path');
const token = tokenFromPath(location.pathname);

// Why the connection ended, from the WebSocket close (code and reason) and noVNC's security result.
function closeReason(event, opened) {
  if (!opened) return 'the server refused the connection (the link may be used up or expired)';
  if (event.reason) return event.reason + ' (code ' + event.code + ')';
  if (event.code === 1000 || event.code === 1005) return 'the server closed the session';
  return 'connection lost (code ' + event.code + ')';
}

function applyScaling(rfb) {
  const mode = $('scaling').value;
  rfb.scaleViewport = mode === 'scale';
  rfb.resizeSession = mode === 'remote';
}

function connect() {
  let url;
  try {
    url = websocketUrl(location, token, wsPath);
  } catch (e) {
    setState('disconnected', e.message);
    return;
  }
  if (!token && wsPath === null) {
    setState('disconnected', 'this page needs a console link (/console/<token>)');
    return;
  }
  setState('connecting');
  // Our own WebSocket (noVNC accepts one) so the close code and reason can be shown to the user.
  const socket = new WebSocket(url, ['binary']);
  let opened = false;
  let closeEvent = null;
  let securityReason = '';
  socket.addEventListener('open', () => {
    opened = true;
  });
  socket.addEventListener('close', (e) => {
    closeEvent = e;
  });
  const screen = $('screen');
  screen.replaceChildren();
  const rfb = new RFB(screen, socket, { shared: true });
  consoleState.rfb = rfb;
  consoleState.frames = 0;
  rfb.viewOnly = viewOnly;
  applyScaling(rfb);
  // Count finished framebuffer updates so "connected and showing a desktop" can be told from "connected".
  // Display.flip is noVNC-internal (Debian's 1.3.0); without it the count stays 0 and nothing else changes.
  const display = rfb._display;
  if (display && typeof display.flip === 'function') {
    const flip = display.flip.bind(display);
    display.flip = (...args) => {
      flip(...args);
      consoleState.frames += 1;
      consoleState.width = display.width;
      consoleState.height = display.height;
    };
  }
  rfb.addEventListener('connect', () => {
    setState('connected');
    rfb.focus();
  });
  rfb.addEventListener('securityfailure', (e) => {
    securityReason = 'security failure' + (e.detail.reason ? ': ' + e.detail.reason : '');
  });
  rfb.addEventListener('disconnect', (e) => {
    // noVNC may report the disconnect before the socket's close event arrives: wait briefly for it.
    const started = Date.now();
    const finish = () => {
      if (!closeEvent && Date.now() - started < 500) {
        setTimeout(finish, 20);
        return;
      }
      let reason = securityReason;
      if (!reason && closeEvent) reason = closeReason(closeEvent, opened);
      if (!reason) reason = e.detail.clean ? 'the server closed the session' : 'connection lost';
      setState('disconnected', reason);
    };
    finish();
  });
  rfb.addEventListener('clipboard', (e) => {
    consoleState.clipboard = e.detail.text;
    $('clipboard-in').value = e.detail.text;
  });
  rfb.addEventListener('desktopname', (e) => {
    document.title = e.detail.name + ' — vncgate console';
  });
}

// A console link works once: reconnecting needs a new link (unless the harness gave a fixed ws_path).
function reconnect() {
  if (wsPath !== null) {
    connect();
    return;
  }
  const answer = window.prompt(
    'Console links are single-use, so this one cannot reconnect.\n' +
      'Create a new console link (dashboard → Live sessions) and paste it here:',
  );
  if (!answer) return;
  let next;
  try {
    next = new URL(answer.trim(), location.href);
  } catch {
    showNotice('That is not a link.');
    return;
  }
  if (next.origin !== location.origin || !next.pathname.startsWith('/console/')) {
    showNotice('Paste a console link of this server (…/console/<token>).');
    return;
  }
  location.assign(next.href);
}

function wireControls() {
  $('view-only-badge').hidden = !viewOnly;
  $('scaling').addEventListener('change', () => consoleState.rfb && applyScaling(consoleState.rfb));
  $('ctrl-alt-del').addEventListener('click', () => consoleState.rfb && consoleState.rfb.sendCtrlAltDel());
  $('clipboard-toggle').addEventListener('click', () => {
    const panel = $('clipboard-panel');
    panel.hidden = !panel.hidden;
    $('clipboard-toggle').setAttribute('aria-expanded', String(!panel.hidden));
  });
  $('clipboard-send').addEventListener('click', () => {
    if (consoleState.rfb) consoleState.rfb.clipboardPasteFrom($('clipboard-out').value);
  });
  $('fullscreen').addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch((e) => showNotice('Full screen refused: ' + e.message));
  });
  $('reconnect').addEventListener('click', reconnect);
}

wireControls();
connect();
