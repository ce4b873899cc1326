#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the hand-built fuzz seeds into tests/fuzz/corpus/<target>/hand-*.bin (deterministic; re-run after
changing it and commit the output). Layouts: tests/fuzz/fuzz_input.hpp (decoders) and the header comment of
tests/fuzz/fuzz_server_messages.cpp; fbs_reader seeds are whole .fbs files (docs/fbs.md). Seeds captured from real servers (vncgate_capture) sit beside these.

Usage: tests/fuzz/make_seeds.py [CORPUS_DIR]"""
import os
import shutil
import struct
import subprocess
import sys
import zlib

# Pixel format selectors (fuzz_input.hpp formats()).
CANONICAL, RGB565, RGB565BE, BGR233, COLOURMAP8, CANONICAL_BE = range(6)
BPP = {CANONICAL: 4, RGB565: 2, RGB565BE: 2, BGR233: 1, COLOURMAP8: 1, CANONICAL_BE: 4}


def u16(v): return struct.pack(">H", v)
def u32(v): return struct.pack(">I", v)
def s32(v): return struct.pack(">i", v)


def pixel(sel, r, g, b):
    """One PIXEL in the selected format from 8-bit components."""
    if sel == CANONICAL: return struct.pack("<I", (r << 16) | (g << 8) | b)
    if sel == CANONICAL_BE: return struct.pack(">I", (r << 16) | (g << 8) | b)
    if sel in (RGB565, RGB565BE):
        v = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
        return struct.pack("<H" if sel == RGB565 else ">H", v)
    if sel == BGR233: return bytes([(r >> 5) | ((g >> 5) << 3) | ((b >> 6) << 6)])
    return bytes([(r ^ g ^ b) & 0xff])


def rec(x, y, w, h, wire): return u16(x) + u16(y) + u16(w) + u16(h) + wire


def gradient_pixels(sel, w, h, fmt=pixel):
    return b"".join(fmt(sel, (x * 255) // max(w - 1, 1), (y * 255) // max(h - 1, 1), (x * y) & 0xff)
                    for y in range(h) for x in range(w))


class Stream:
    """One persistent zlib stream, sync-flushed per rectangle as RFB servers do."""
    def __init__(self): self.z = zlib.compressobj(6)
    def chunk(self, data): return self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH)


def raw_seeds():
    yield "canonical-4x4", bytes([CANONICAL]) + rec(1, 2, 4, 4, gradient_pixels(CANONICAL, 4, 4))
    yield "rgb565-two", bytes([RGB565]) + rec(0, 0, 8, 2, gradient_pixels(RGB565, 8, 2)) + \
        rec(250, 250, 6, 6, gradient_pixels(RGB565, 6, 6))
    yield "bgr233-16x1", bytes([BGR233]) + rec(0, 255, 16, 1, gradient_pixels(BGR233, 16, 1))
    yield "colourmap", bytes([COLOURMAP8]) + rec(3, 3, 5, 3, bytes(range(15)))
    yield "be-and-empty", bytes([CANONICAL_BE]) + rec(9, 9, 0, 0, b"") + rec(0, 0, 3, 1, gradient_pixels(CANONICAL_BE, 3, 1))


def copyrect_seeds():
    yield "overlap-down", bytes([CANONICAL]) + rec(10, 12, 32, 32, u16(8) + u16(8))
    yield "overlap-up-left", bytes([CANONICAL]) + rec(0, 0, 100, 40, u16(3) + u16(5))
    yield "edges", bytes([RGB565]) + rec(0, 0, 256, 1, u16(0) + u16(255)) + rec(255, 0, 1, 256, u16(0) + u16(0))


def rre_seeds():
    def rre(sel, bg, subs):
        body = pixel(sel, *bg)
        for colour, (x, y, w, h) in subs: body += pixel(sel, *colour) + u16(x) + u16(y) + u16(w) + u16(h)
        return u32(len(subs)) + body
    yield "three", bytes([CANONICAL]) + rec(16, 16, 40, 30, rre(CANONICAL, (10, 20, 30), [
        ((255, 0, 0), (0, 0, 10, 10)), ((0, 255, 0), (30, 20, 10, 10)), ((0, 0, 255), (5, 5, 0, 3))]))
    yield "rgb565-full", bytes([RGB565]) + rec(0, 0, 8, 8, rre(RGB565, (255, 255, 255), [((1, 2, 3), (0, 0, 8, 8))]))
    yield "bgr233-none", bytes([BGR233]) + rec(100, 100, 3, 3, rre(BGR233, (200, 100, 50), []))


def hextile_seeds():
    RAW, BG, FG, ANY, COLOURED = 1, 2, 4, 8, 16
    def sub(x, y, w, h, tw, th):  # a subrect clamped into its tile: x,y nibbles then w-1,h-1 nibbles
        x, y = min(x, tw - 1), min(y, th - 1)
        w, h = max(1, min(w, tw - x)), max(1, min(h, th - y))
        return bytes([x << 4 | y, (w - 1) << 4 | (h - 1)])
    def tiles(sel, w, h):
        out, i = b"", 0
        for ty in range(0, h, 16):
            for tx in range(0, w, 16):
                tw, th = min(16, w - tx), min(16, h - ty)
                kind = i % 5
                i += 1
                if kind == 0:
                    out += bytes([RAW]) + gradient_pixels(sel, tw, th)
                elif kind == 1:
                    out += bytes([BG]) + pixel(sel, 40, 80, 120)
                elif kind == 2:
                    out += bytes([BG | FG | ANY]) + pixel(sel, 0, 0, 0) + pixel(sel, 255, 255, 255) + bytes(
                        [2]) + sub(0, 0, 4, 2, tw, th) + sub(0, th - 1, tw, 1, tw, th)
                elif kind == 3:
                    out += bytes([ANY | COLOURED, 2]) + pixel(sel, 255, 0, 0) + sub(1, 1, 3, 3, tw, th) + \
                        pixel(sel, 0, 255, 0) + sub(0, 0, tw, th, tw, th)
                else:
                    out += bytes([0])  # no flags: keeps the last background
        return out
    yield "mixed-40x36", bytes([CANONICAL]) + rec(5, 7, 40, 36, tiles(CANONICAL, 40, 36))
    yield "rgb565-33x17", bytes([RGB565]) + rec(0, 0, 33, 17, tiles(RGB565, 33, 17))
    yield "colourmap-16x16", bytes([COLOURMAP8]) + rec(200, 200, 16, 16, tiles(COLOURMAP8, 16, 16))


def zlib_seeds():
    for sel, name in ((CANONICAL, "canonical"), (RGB565BE, "rgb565be"), (BGR233, "bgr233")):
        z = Stream()
        out = bytes([sel])
        for (x, y, w, h) in ((0, 0, 20, 10), (30, 30, 16, 16), (0, 100, 64, 3)):
            data = z.chunk(gradient_pixels(sel, w, h))
            out += rec(x, y, w, h, u32(len(data)) + data)
        yield "stream-" + name, out


def compact(n):
    out = bytes([n & 0x7f | (0x80 if n > 0x7f else 0)])
    if n > 0x7f:
        out += bytes([(n >> 7) & 0x7f | (0x80 if n > 0x3fff else 0)])
        if n > 0x3fff: out += bytes([n >> 14])
    return out


def tight_seeds():
    def tp(sel, r, g, b): return bytes([r, g, b]) if sel in (CANONICAL,) else pixel(sel, r, g, b)
    def tpixels(sel, w, h): return gradient_pixels(sel, w, h, tp)
    def data(streams, sid, raw):
        if len(raw) < 12: return raw
        c = streams[sid].chunk(raw)
        return compact(len(c)) + c
    for sel, name in ((CANONICAL, "canonical"), (RGB565, "rgb565"), (COLOURMAP8, "colourmap")):
        streams = [Stream() for _ in range(4)]
        out = bytes([sel])
        out += rec(0, 0, 30, 20, bytes([0x80 | 0x0f]) + tp(sel, 1, 2, 3))                      # fill, reset all
        out += rec(1, 1, 2, 1, bytes([0x00]) + tpixels(sel, 2, 1))                              # copy, raw (<12)
        out += rec(10, 10, 16, 8, bytes([0x10]) + data(streams, 1, tpixels(sel, 16, 8)))      # copy, stream 1
        bits = bytes([0b10110000, 0b00001111] * 8)
        out += rec(40, 0, 16, 8, bytes([0x60, 1, 1]) + tp(sel, 0, 0, 0) + tp(sel, 255, 255, 255) +
                   data(streams, 2, bits))                                                      # 2-colour palette
        idx = bytes((x + y) % 5 for y in range(10) for x in range(12))
        out += rec(60, 20, 12, 10, bytes([0x70, 1, 4]) + b"".join(tp(sel, i * 50, 0, 255 - i * 50) for i in range(5)) +
                   data(streams, 3, idx))                                                       # 5-colour palette
        if sel != COLOURMAP8:
            out += rec(0, 50, 16, 16, bytes([0x40, 2]) + data(streams, 0, tpixels(sel, 16, 16)))  # gradient
        out += rec(10, 10, 16, 8, bytes([0x12 | 0x10]) + data([Stream()] * 4, 1, tpixels(sel, 16, 8)))  # reset 1
        yield "mixed-" + name, out
    convert = "/usr/bin/convert"
    if os.path.exists(convert):
        jpeg = subprocess.run([convert, "-size", "24x16", "gradient:red-blue", "-quality", "80", "jpg:-"],
                              check=True, capture_output=True).stdout
        yield "jpeg", bytes([CANONICAL]) + rec(4, 4, 24, 16, bytes([0x90]) + compact(len(jpeg)) + jpeg) + \
            rec(0, 0, 24, 16, bytes([0x90]) + compact(len(jpeg)) + jpeg)


def zrle_seeds():
    def cp(sel, r, g, b):  # CPIXEL: the 3 low-order bytes of a 24-bit-depth 32 bpp pixel, in its byte order
        p = pixel(sel, r, g, b)
        return p[:3] if sel == CANONICAL else p[1:] if sel == CANONICAL_BE else p
    def tile(sel, kind, w, h):
        n = w * h
        if kind == 0: return bytes([0]) + b"".join(cp(sel, x * 4, y * 4, 9) for y in range(h) for x in range(w))
        if kind == 1: return bytes([1]) + cp(sel, 9, 99, 199)
        if kind in (2, 3, 5):
            bits = {2: 1, 3: 2, 5: 4}[kind]
            pal = b"".join(cp(sel, i * 40, 255 - i * 40, 7) for i in range(kind))
            rows = b""
            for y in range(h):
                acc, nbits, row = 0, 0, b""
                for x in range(w):
                    acc = (acc << bits) | ((x + y) % kind)
                    nbits += bits
                    if nbits == 8: row, acc, nbits = row + bytes([acc]), 0, 0
                if nbits: row += bytes([acc << (8 - nbits)])
                rows += row
            return bytes([kind]) + pal + rows
        def run(k):
            out = b""
            k -= 1
            while k >= 255: out, k = out + b"\xff", k - 255
            return out + bytes([k])
        if kind == 128:
            half = n // 2
            return bytes([128]) + cp(sel, 255, 0, 0) + run(half) + cp(sel, 0, 0, 255) + run(n - half)
        pal = cp(sel, 1, 1, 1) + cp(sel, 200, 200, 200) + cp(sel, 50, 60, 70)
        return bytes([131]) + pal + bytes([0x80 | 1]) + run(n - 2) + bytes([2, 0])
    kinds = [0, 1, 2, 3, 5, 128, 131]
    for sel, name in ((CANONICAL, "canonical"), (RGB565, "rgb565"), (CANONICAL_BE, "be")):
        z = Stream()
        out = bytes([sel])
        for i, (x, y, w, h) in enumerate(((0, 0, 70, 70), (100, 100, 64, 64), (3, 200, 9, 5))):
            body, k = b"", i
            for ty in range(0, h, 64):
                for tx in range(0, w, 64):
                    body += tile(sel, kinds[k % len(kinds)], min(64, w - tx), min(64, h - ty))
                    k += 1
            c = z.chunk(body)
            out += rec(x, y, w, h, u32(len(c)) + c)
        yield "tiles-" + name, out


def server_message_seeds():
    def update(*rects, last=False):
        out = bytes([0, 0]) + u16(0xffff if last else len(rects))
        for (x, y, w, h, enc, body) in rects: out += u16(x) + u16(y) + u16(w) + u16(h) + s32(enc) + body
        if last: out += u16(0) * 4 + s32(-224)
        return out
    px = lambda n: bytes(range(256)) * (n * 4 // 256) + bytes(n * 4 % 256)
    cursor = (2, 1, 8, 4, -239, px(32) + bytes([0xf0, 0x0f, 0xff, 0x81]))
    xcursor = (0, 0, 9, 2, -240, bytes([255, 0, 0, 0, 0, 255]) + bytes([0xff, 0x80] * 2) + bytes([0x7f, 0x00] * 2))
    z = Stream()
    zd = z.chunk(px(64)[:4 * 64])
    rre = u32(1) + px(1) + px(1) + u16(1) + u16(1) + u16(2) + u16(2)
    yield "update-basic", update((0, 0, 8, 8, 0, px(64)), (8, 8, 8, 8, 1, u16(0) + u16(0)), (20, 20, 4, 4, 2, rre),
                                 (30, 30, 16, 4, 6, u32(len(zd)) + zd), cursor, xcursor, (10, 10, 0, 0, -232, b""))
    yield "update-lastrect", update((0, 0, 64, 48, 7, bytes([0x80, 1, 2, 3])), (0, 0, 64, 48, 5, bytes([2]) + px(1) +
                                    bytes(11)), last=True)
    yield "resize", update((0, 0, 32, 24, -223, b"")) + update(
        (0, 0, 40, 30, -308, bytes([1, 0, 0, 0]) + u32(0) + u16(0) * 2 + u16(40) + u16(30) + u32(0)),
        (0, 0, 0, 0, -307, u32(5) + b"hello"))
    yield "wmvi-rgb565", update((0, 0, 64, 48, 0x574d5669, bytes([16, 16, 0, 1]) + u16(31) + u16(63) + u16(31) +
                                bytes([11, 5, 0, 0, 0, 0]))) + update((0, 0, 2, 2, 0, px(2)))
    yield "misc-messages", (bytes([1, 0]) + u16(0) + u16(2) + u16(0xffff) * 6 + bytes([2]) +
                            bytes([3, 0, 0, 0]) + u32(5) + b"clip!" + bytes([3, 0, 0, 0]) + u32(0xfffffffc) + b"\0\0\0\x01" +
                            bytes([248, 0, 0, 0]) + u32(0x80000001) + bytes([4]) + b"abcd" + bytes([250, 0, 1, 1]) +
                            bytes([255, 1]) + u16(2) + u32(3) + b"pcm" + bytes([255, 1]) + u16(0) + bytes([150]) +
                            update((0, 0, 0, 0, -261, bytes([7])), (0, 0, 0, 0, 0x574d5668, u32(3)),
                                   (0, 0, 0, 0, -258, b""), (0, 0, 0, 0, -257, b"")))
    yield "whole-stream-33", b"RFB 003.003\n" + u32(1) + u16(16) + u16(8) + bytes([32, 24, 0, 1, 0, 255, 0, 255, 0, 255,
                                                                                 16, 8, 0, 0, 0, 0]) + u32(1) + b"x" + update((0, 0, 16, 8, 0, px(128)))
    yield "whole-stream-vncauth", b"RFB 003.008\n" + bytes([1, 2]) + bytes(range(16)) + u32(0) + u16(4) + u16(4) + \
        bytes([8, 8, 0, 0]) + bytes(12) + u32(0) + bytes([1, 0]) + u16(0) + u16(2) + u16(0xffff) * 6 + \
        update((0, 0, 4, 4, 0, px(16)))


def fbs_block(data, ms):
    return u32(len(data)) + data + bytes(-len(data) % 4) + u32(ms)


def fbs_reader_seeds():
    """Whole .fbs files (docs/fbs.md): ours, rfbproxy/vncproxy 001.000 shapes, and damaged ones."""
    canonical = bytes([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0])
    rgb565 = bytes([16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0])
    prologue = b"RFB 003.003\n" + u32(1) + u16(8) + u16(4) + canonical + u32(3) + b"fbs"
    raw = bytes([0, 0]) + u16(1) + u16(0) + u16(0) + u16(8) + u16(4) + s32(0) + b"\x10\x20\x30\x00" * 32
    zrle_data = zlib.compress(bytes([1]) + b"\x40\x50\x60")  # one solid tile, CPIXEL of 3 bytes
    zrle = bytes([0, 0]) + u16(1) + u16(0) + u16(0) + u16(8) + u16(4) + s32(16) + u32(len(zrle_data)) + zrle_data
    resize = bytes([0, 0]) + u16(1) + u16(0) + u16(0) + u16(16) + u16(8) + s32(-223)
    ours = b"FBS 001.001\n" + fbs_block(prologue, 0) + fbs_block(raw, 100) + fbs_block(resize + zrle[:7], 1500) + \
        fbs_block(zrle[7:], 1501)
    yield "ours", ours
    yield "truncated", ours[:-9]
    # Time marks (a FramebufferUpdate with no rectangles, in a block of its own) on a still screen and at the end.
    marked = ours + fbs_block(bytes(4), 2501) + fbs_block(bytes(4), 3501) + fbs_block(bytes(4), 4000)
    yield "time-marks", marked
    yield "time-marks-killed", marked[:-6]
    yield "backwards", b"FBS 001.001\n" + fbs_block(prologue, 0) + fbs_block(raw, 100) + fbs_block(raw, 50)
    yield "end-marker", b"FBS 001.000\n" + fbs_block(prologue + raw, 0) + fbs_block(b"", 9) + fbs_block(raw, 10)
    vncproxy = b"RFB 003.003\n" + u32(1) + u16(2) + u16(1) + rgb565 + u32(8) + b"vncproxy" + \
        bytes([0, 0]) + u16(1) + u16(0) + u16(0) + u16(2) + u16(1) + s32(0) + b"\x00\xf8\x1f\x00"
    yield "vncproxy-000", b"FBS 001.000\n" + fbs_block(vncproxy[:5], 0) + fbs_block(vncproxy[5:], 20)
    rfbproxy = b"RFB 003.008\n" + bytes([1, 2]) + bytes(range(16)) + u32(0) + u16(8) + u16(4) + canonical + u32(0) + raw
    yield "rfbproxy-000-vncauth", b"FBS 001.000\n" + fbs_block(rfbproxy, 0)
    yield "index", b"FBSIDX01" + u32(100) + u32(1) + u32(0) + u32(64) + u32(1500) + u32(0) + u32(0) + u32(200)


def checkpoint_seeds():
    """u32 N + N bytes of checkpoint state (src/rfb/client_checkpoint.cpp) + server messages continuing it."""
    canonical = bytes([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0])
    w, h = 8, 4
    tile = bytes([1]) + b"\x40\x50\x60"  # one solid ZRLE tile, CPIXEL of 3 bytes
    z = zlib.compressobj()
    first = z.compress(tile) + z.flush(zlib.Z_SYNC_FLUSH)
    second = z.compress(tile) + z.flush(zlib.Z_SYNC_FLUSH)  # refers back into the first chunk's output
    packed_window = zlib.compress(tile, 1)
    zrle_stream = bytes([2]) + first[:2] + u32(len(tile)) + u32(len(packed_window)) + packed_window
    unused_stream = bytes(3) + u32(0) + u32(0)
    pixels = zlib.compress(b"\x60\x50\x40\x00" * (w * h), 1)
    state = (u32(1) + u32(w) + u32(h) + canonical + u32(5) + b"guest" + bytes([8, 1]) + canonical + bytes(1024) +
             u32(w // 2) + u32(h // 2) + u32(0) + bytes([0]) + u32(0) + u32(3) + u32(0) * 4 +
             bytes([32]) + u32(0) + u32(len(pixels)) + pixels +
             u32(2) + s32(7) + unused_stream * 4 + s32(16) + zrle_stream)
    update = bytes([0, 0]) + u16(1) + rec(0, 0, w, h, s32(16) + u32(len(second)) + second)
    yield "zrle", u32(len(state)) + state + update
    yield "zrle-no-window", u32(len(state)) + state.replace(zrle_stream, bytes([2]) + first[:2] + u32(0) + u32(0)) + update


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    groups = {"fuzz_decoder_raw": raw_seeds, "fuzz_decoder_copyrect": copyrect_seeds, "fuzz_decoder_rre": rre_seeds,
              "fuzz_decoder_hextile": hextile_seeds, "fuzz_decoder_zlib": zlib_seeds,
              "fuzz_decoder_tight": tight_seeds, "fuzz_decoder_zrle": zrle_seeds,
              "fuzz_server_messages": server_message_seeds, "fuzz_fbs_reader": fbs_reader_seeds,
              "fuzz_checkpoint": checkpoint_seeds}
    for target, make in groups.items():
        d = os.path.join(corpus, target)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.startswith("hand-"): os.remove(os.path.join(d, f))
        for name, data in make():
            with open(os.path.join(d, "hand-" + name + ".bin"), "wb") as f: f.write(data)


if __name__ == "__main__":
    main()
