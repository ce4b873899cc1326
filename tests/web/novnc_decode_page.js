// SPDX-License-Identifier: Apache-2.0
// Runs in Chromium (loaded by novnc_decode_check.mjs): feeds a trace of the gateway's encoded output
// (tests/integration/novnc_differential_test.cpp writes it) through noVNC's own Websock, decoders and Display —
// the bundled noVNC the console page uses — and compares the canvas with the gateway's picture after every
// update. The FramebufferUpdate loop below follows rfb.js (_normalMsg, _framebufferUpdate, _handleRect), which
// needs a live WebSocket and a DOM container to run itself.
import Display from '/novnc/core/display.js';
import Websock from '/novnc/core/websock.js';
import RawDecoder from '/novnc/core/decoders/raw.js';
import CopyRectDecoder from '/novnc/core/decoders/copyrect.js';
import RREDecoder from '/novnc/core/decoders/rre.js';
import HextileDecoder from '/novnc/core/decoders/hextile.js';
import TightDecoder from '/novnc/core/decoders/tight.js';
import TightPNGDecoder from '/novnc/core/decoders/tightpng.js';
import { encodings } from '/novnc/core/encodings.js';

const kJoin = 1, kBytes = 2, kExpect = 3, kEnd = 4;

// What Websock.attach() checks a channel for; the trace delivers the bytes through onmessage.
class TraceChannel {
  constructor() {
    this.binaryType = 'arraybuffer';
    this.protocol = '';
    this.readyState = 'open';
    this.onerror = null;
    this.onmessage = null;
    this.onopen = null;
  }
  send() {}
  close() {}
}

// FNV-1a over the pixels as little-endian 32-bit words (R, G, B, A bytes); pixels under `mask` count as 0.
function fnv1a(rgba, mask) {
  const words = new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length / 4);
  let h = 0x811c9dc5;
  if (!mask) {
    for (let p = 0; p < words.length; ++p) h = Math.imul(h ^ words[p], 0x01000193);
  } else {
    for (let p = 0; p < words.length; ++p) h = Math.imul(h ^ (mask[p] ? 0 : words[p]), 0x01000193);
  }
  return h >>> 0;
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// A seeded generator for chunk sizes: a viewer's bytes arrive in pieces of any size, as from a socket.
function lcg(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
}

class Viewer {
  constructor(id, width, height, label) {
    this.id = id;
    this.label = label;
    this.canvas = document.createElement('canvas');
    this.display = new Display(this.canvas);
    this.display.resize(width, height);
    this.channel = new TraceChannel();
    this.sock = new Websock();
    this.sock.attach(this.channel);
    this.sock.on('message', () => this.onMessage());
    this.decoders = {
      [encodings.encodingRaw]: new RawDecoder(),
      [encodings.encodingCopyRect]: new CopyRectDecoder(),
      [encodings.encodingRRE]: new RREDecoder(),
      [encodings.encodingHextile]: new HextileDecoder(),
      [encodings.encodingTight]: new TightDecoder(),
      [encodings.encodingTightPNG]: new TightPNGDecoder(),
    };
    this.fbu = { rects: 0, x: 0, y: 0, width: 0, height: 0, encoding: null };
    this.updates = 0;
    this.error = null;
  }

  deliver(bytes) {
    const copy = bytes.slice();  // Websock keeps no reference, but the trace buffer is shared
    this.channel.onmessage({ data: copy.buffer });
    if (this.error) throw this.error;
  }

  onMessage() {
    try {
      while (this.sock.rQlen > 0) {
        if (this.fbu.rects === 0) {
          const type = this.sock.rQshift8();
          if (type !== 0) throw new Error(`unexpected server message type ${type}`);
        }
        if (!this.framebufferUpdate()) return;
        ++this.updates;
      }
    } catch (e) {
      this.error = this.error || e;
    }
  }

  // rfb.js _framebufferUpdate (the header's type byte is read by onMessage).
  framebufferUpdate() {
    const sock = this.sock;
    if (this.fbu.rects === 0) {
      if (sock.rQwait('FBU header', 3, 1)) return false;
      sock.rQskipBytes(1);
      this.fbu.rects = sock.rQshift16();
      if (this.fbu.rects === 0) {
        this.display.flip();
        return true;
      }
    }
    while (this.fbu.rects > 0) {
      if (this.fbu.encoding === null) {
        if (sock.rQwait('rect header', 12)) return false;
        const hdr = sock.rQshiftBytes(12);
        this.fbu.x = (hdr[0] << 8) + hdr[1];
        this.fbu.y = (hdr[2] << 8) + hdr[3];
        this.fbu.width = (hdr[4] << 8) + hdr[5];
        this.fbu.height = (hdr[6] << 8) + hdr[7];
        this.fbu.encoding = parseInt((hdr[8] << 24) + (hdr[9] << 16) + (hdr[10] << 8) + hdr[11], 10);
      }
      if (!this.handleRect()) return false;
      this.fbu.rects--;
      this.fbu.encoding = null;
    }
    this.display.flip();
    return true;
  }

  // rfb.js _handleRect, for what a gateway sends (no cursor shapes: the gateway's upstream draws the pointer).
  handleRect() {
    const f = this.fbu;
    switch (f.encoding) {
      case encodings.pseudoEncodingLastRect:
        f.rects = 1;
        return true;
      case encodings.pseudoEncodingQEMUExtendedKeyEvent:
        return true;
      case encodings.pseudoEncodingDesktopSize:
        this.display.resize(f.width, f.height);
        return true;
      case encodings.pseudoEncodingExtendedDesktopSize:
        return this.extendedDesktopSize();
      default: {
        const decoder = this.decoders[f.encoding];
        if (!decoder) throw new Error(`unsupported encoding ${f.encoding}`);
        try {
          return decoder.decodeRect(f.x, f.y, f.width, f.height, this.sock, this.display, 24);
        } catch (e) {
          // The words noVNC shows the user ("Failed while connected: Error decoding rect: ...").
          throw new Error(`Error decoding rect: ${e} (encoding ${f.encoding} at ${f.x},${f.y} ${f.width}x${f.height})`);
        }
      }
    }
  }

  // rfb.js _handleExtendedDesktopSize: the screen count, then 16 bytes a screen; x = 0 is a server-side change.
  extendedDesktopSize() {
    const sock = this.sock;
    if (sock.rQwait('ExtendedDesktopSize', 4)) return false;
    const screens = sock.rQpeek8();
    if (sock.rQwait('ExtendedDesktopSize', 4 + screens * 16)) return false;
    sock.rQskipBytes(4 + screens * 16);
    if (this.fbu.y !== 0) throw new Error(`ExtendedDesktopSize error ${this.fbu.y}`);
    this.display.resize(this.fbu.width, this.fbu.height);
    return true;
  }

  async flushed() {
    if (!this.display.pending()) return;
    await new Promise((resolve) => {
      this.display.onflush = resolve;
      this.display.flush();
    });
  }
}

// The trace, fetched in pieces as it is read: it may be larger than one response can be.
class TraceReader {
  constructor(url) {
    this.url = url;
    this.buffer = new Uint8Array(0);
    this.at = 0;        // read position in buffer
    this.fetched = 0;   // trace bytes fetched so far
    this.done = false;
  }
  // Makes `n` bytes available at this.at; false at the end of the trace.
  async ensure(n) {
    while (this.buffer.length - this.at < n && !this.done) {
      const piece = new Uint8Array(await (await fetch(`${this.url}?offset=${this.fetched}&length=${8 << 20}`)).arrayBuffer());
      if (piece.length === 0) {
        this.done = true;
        break;
      }
      this.fetched += piece.length;
      const rest = this.buffer.subarray(this.at);
      const joined = new Uint8Array(rest.length + piece.length);
      joined.set(rest);
      joined.set(piece, rest.length);
      this.buffer = joined;
      this.at = 0;
    }
    return this.buffer.length - this.at >= n;
  }
  take(n) {
    const out = this.buffer.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

// Reads the trace and checks every expectation; returns the report.
export async function run(traceUrl, options = {}) {
  const minPsnr = options.minPsnr ?? 30;
  const chunk = lcg(options.seed ?? 1);
  const maxChunk = options.maxChunk ?? 4096;
  const reader = new TraceReader(traceUrl);
  if (!(await reader.ensure(8))) throw new Error('empty trace');
  const head = reader.take(8);
  if (String.fromCharCode(...head.subarray(0, 4)) !== 'VGTR' || new DataView(head.buffer, head.byteOffset).getUint32(4, true) !== 1)
    throw new Error('not a version 1 trace');
  const viewers = new Map();
  const report = { viewers: {}, checks: 0, lossy_checks: 0, bytes: 0, min_psnr: null, mismatches: [] };
  let ended = false;
  while (!ended && (await reader.ensure(8))) {
    const record = reader.take(8);
    const kind = record[0], id = record[1];
    const length = new DataView(record.buffer, record.byteOffset).getUint32(4, true);
    if (!(await reader.ensure(length))) throw new Error('the trace ends inside a record');
    const payload = reader.take(length);
    const p = new DataView(payload.buffer, payload.byteOffset, payload.length);
    if (kind === kJoin) {
      const label = new TextDecoder().decode(payload.subarray(4));
      viewers.set(id, new Viewer(id, p.getUint16(0, true), p.getUint16(2, true), label));
      report.viewers[id] = { label, updates: 0, checks: 0 };
    } else if (kind === kBytes) {
      const v = viewers.get(id);
      report.bytes += payload.length;
      for (let i = 0; i < payload.length;) {
        const n = 1 + chunk(Math.min(maxChunk, payload.length - i));
        try {
          v.deliver(payload.subarray(i, i + n));
        } catch (e) {
          report.mismatches.push({ viewer: id, label: v.label, update: v.updates, error: String(e.message || e) });
          return report;
        }
        i += n;
      }
    } else if (kind === kExpect) {
      const v = viewers.get(id);
      const step = p.getUint32(0, true), width = p.getUint16(4, true), height = p.getUint16(6, true);
      const hash = p.getUint32(8, true), maskLength = p.getUint32(12, true);
      const mask = maskLength ? await inflate(payload.subarray(16, 16 + maskLength)) : null;
      const lossyLength = p.getUint32(16 + maskLength, true);
      const lossy = lossyLength ? await inflate(payload.subarray(20 + maskLength, 20 + maskLength + lossyLength)) : null;
      await v.flushed();
      ++report.checks;
      ++report.viewers[id].checks;
      report.viewers[id].updates = v.updates;
      const where = { viewer: id, label: v.label, step, update: v.updates };
      if (v.canvas.width !== width || v.canvas.height !== height) {
        report.mismatches.push({ ...where, error: `canvas ${v.canvas.width}x${v.canvas.height}, picture ${width}x${height}` });
        return report;
      }
      const rgba = v.canvas.getContext('2d').getImageData(0, 0, width, height).data;
      const got = fnv1a(rgba, mask);
      if (got !== hash) {
        report.mismatches.push({ ...where, error: `canvas differs from the picture (hash ${got} != ${hash})`,
                                 canvas: v.canvas.toDataURL('image/png') });
        return report;
      }
      if (mask) {
        let err = 0, n = 0;
        for (let px = 0, j = 0; px < width * height; ++px) {
          if (!mask[px]) continue;
          for (let k = 0; k < 3; ++k, ++j) {
            const d = rgba[px * 4 + k] - lossy[j];
            err += d * d;
          }
          n += 3;
        }
        if (n > 0) {
          ++report.lossy_checks;
          const psnr = err === 0 ? 99 : 10 * Math.log10((255 * 255 * n) / err);
          report.min_psnr = report.min_psnr === null ? psnr : Math.min(report.min_psnr, psnr);
          if (psnr < minPsnr) {
            report.mismatches.push({ ...where, error: `JPEG areas at ${psnr.toFixed(1)} dB (< ${minPsnr})`,
                                     canvas: v.canvas.toDataURL('image/png') });
            return report;
          }
        }
      }
    } else if (kind === kEnd) {
      ended = true;
    } else {
      throw new Error(`unknown trace record ${kind}`);
    }
  }
  if (!ended) throw new Error('trace ends without its end record');
  return report;
}
