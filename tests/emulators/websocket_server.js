// SPDX-License-Identifier: Apache-2.0
// The server side of RFC 6455 for the Proxmox emulator (node has a WebSocket client but no server; this keeps
// the emulators free of npm packages): the upgrade answer, and binary frames relayed to and from a TCP socket.
'use strict';
const crypto = require('crypto');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// Answers the upgrade on `socket` (RFC 6455 §4.2.2) choosing `protocol`. Returns false (after a 400) when the
// request is not a valid WebSocket upgrade.
function acceptUpgrade(req, socket, protocol) {
  const key = req.headers['sec-websocket-key'];
  if (req.headers['sec-websocket-version'] !== '13' || !key || !/websocket/i.test(req.headers.upgrade || '')) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return false;
  }
  const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
  return true;
}

function frame(opcode, payload) {
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0x80 | opcode, n])
    : n < 65536 ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff])
      : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
  return Buffer.concat([header, payload]);
}

function close(ws, code) {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  ws.end(frame(0x8, payload));
}

// Relays binary messages between the upgraded `ws` socket and the TCP socket `tcp`, like pveproxy does between
// the browser and the one-shot VNC port. Client frames must be masked (RFC 6455 §5.1).
function relay(ws, tcp, head) {
  let buffered = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
  const parse = () => {
    for (;;) {
      if (buffered.length < 2) return;
      const opcode = buffered[0] & 0x0f;
      const masked = (buffered[1] & 0x80) !== 0;
      let len = buffered[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buffered.length < 4) return;
        len = buffered.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (buffered.length < 10) return;
        len = Number(buffered.readBigUInt64BE(2));
        offset = 10;
      }
      if (!masked) {
        close(ws, 1002);
        tcp.destroy();
        return;
      }
      if (buffered.length < offset + 4 + len) return;
      const mask = buffered.subarray(offset, offset + 4);
      const payload = Buffer.from(buffered.subarray(offset + 4, offset + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      buffered = buffered.subarray(offset + 4 + len);
      if (opcode === 0x2 || opcode === 0x0) tcp.write(payload);
      else if (opcode === 0x8) {
        ws.end(frame(0x8, payload.subarray(0, 2)));
        tcp.destroy();
        return;
      } else if (opcode === 0x9) ws.write(frame(0xA, payload));
      else if (opcode === 0x1) {
        close(ws, 1003);  // text: pveproxy's vncwebsocket carries binary only
        tcp.destroy();
        return;
      }
    }
  };
  ws.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    parse();
  });
  tcp.on('data', (chunk) => ws.write(frame(0x2, chunk)));
  tcp.on('close', () => { if (!ws.destroyed) close(ws, 1000); });
  tcp.on('error', () => ws.destroy());
  ws.on('close', () => tcp.destroy());
  ws.on('error', () => tcp.destroy());
  parse();
}

module.exports = { acceptUpgrade, relay };
