#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Opens N idle RFB viewers over WebSocket (binary subprotocol, as noVNC does) to ws://127.0.0.1:PORT/: each
# completes the RFB 3.8 handshake with security None and ClientInit, reads ServerInit, then stays silent.
# Prints "ready" once all are connected and holds them until stdin closes or SECONDS pass.
# Usage: idle_viewers.py PORT N SECONDS
import base64, os, select, socket, struct, sys, time

def ws_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise RuntimeError("closed during upgrade")
        head += chunk
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head.split(b"\r\n")[0].decode())
    return s

class Ws:
    def __init__(self, sock):
        self.s, self.buf = sock, b""
    def send(self, data):  # one masked binary frame
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x82, 0x80 | n]) if n < 126 else bytes([0x82, 0xFE]) + struct.pack(">H", n)
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
    def read(self, n):  # n payload bytes across frames (server frames are unmasked)
        while len(self.buf) < n:
            h = self._exact(2)
            length = h[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(length)
            if h[0] & 0x0F in (1, 2, 0):
                self.buf += payload
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                raise RuntimeError("closed")
            data += chunk
        return data

def viewer(port):
    ws = Ws(ws_connect(port))
    version = ws.read(12)
    ws.send(version)
    count = ws.read(1)[0]
    ws.read(count)
    ws.send(b"\x01")
    if struct.unpack(">I", ws.read(4))[0] != 0:
        raise RuntimeError("security refused")
    ws.send(b"\x01")
    ws.read(20)
    name_len = struct.unpack(">I", ws.read(4))[0]
    ws.read(name_len)
    return ws

def main():
    port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    viewers = [viewer(port) for _ in range(n)]
    print("ready", flush=True)
    select.select([sys.stdin], [], [], seconds)
    for v in viewers:
        v.s.close()

if __name__ == "__main__":
    main()
