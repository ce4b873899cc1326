#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Opens N RFB viewers over WebSocket (binary subprotocol, as noVNC does) to ws://127.0.0.1:PORT/: each
# completes the RFB 3.8 handshake with security None and ClientInit and reads ServerInit. Idle viewers then
# stay silent; with "active" each (in its own process) asks for Raw and requests incremental updates back to
# back, reading and discarding them, like a viewer that keeps up. Prints "ready" once all are connected and
# holds them until stdin closes or SECONDS pass.
# Usage: idle_viewers.py PORT N SECONDS [active]
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
    init = ws.read(20)
    name_len = struct.unpack(">I", ws.read(4))[0]
    ws.read(name_len)
    ws.width, ws.height = struct.unpack(">HH", init[:4])
    ws.bpp = init[4] // 8
    return ws

def keep_up(ws):
    ws.send(b"\x02\x00" + struct.pack(">H", 1) + struct.pack(">i", 0))  # SetEncodings [Raw]
    request = b"\x03\x01" + struct.pack(">HHHH", 0, 0, ws.width, ws.height)
    ws.send(b"\x03\x00" + struct.pack(">HHHH", 0, 0, ws.width, ws.height))
    while True:
        kind = ws.read(1)[0]
        if kind == 0:
            nrects = struct.unpack(">xH", ws.read(3))[0]
            for _ in range(nrects):
                x, y, w, h, enc = struct.unpack(">HHHHi", ws.read(12))
                if enc == 0:
                    ws.read(w * h * ws.bpp)
                elif enc == -223:  # DesktopSize
                    ws.width, ws.height = w, h
                elif enc == -308:  # ExtendedDesktopSize
                    screens = ws.read(4)[0]
                    ws.read(screens * 16)
                    ws.width, ws.height = w, h
            ws.send(request)
        elif kind == 2:  # Bell
            pass
        elif kind == 3:  # ServerCutText
            ws.read(3)
            ws.read(struct.unpack(">I", ws.read(4))[0])
        else:
            raise RuntimeError(f"unexpected message {kind}")

def main():
    port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    active = len(sys.argv) > 4 and sys.argv[4] == "active"
    viewers = [viewer(port) for _ in range(n)]
    children = []
    if active:
        for v in viewers:
            pid = os.fork()
            if pid == 0:
                try:
                    keep_up(v)
                except Exception as e:  # a viewer that fails says why: its numbers would be wrong
                    print(f"viewer: {e}", file=sys.stderr, flush=True)
                finally:
                    os._exit(0)
            children.append(pid)
    print("ready", flush=True)
    select.select([sys.stdin], [], [], seconds)
    for v in viewers:
        v.s.close()
    for pid in children:
        os.kill(pid, 15)

if __name__ == "__main__":
    main()
