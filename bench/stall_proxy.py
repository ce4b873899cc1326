#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A TCP proxy that stalls: it forwards 127.0.0.1:LISTEN <-> 127.0.0.1:UPSTREAM, except that every PERIOD
# seconds it stops forwarding for the last STALL seconds of the period (the first stall begins PERIOD - STALL
# seconds after start): connections stay open, bytes already sent wait in the kernel buffers, new connections
# are accepted but not connected through until the stall ends. This is a storage endpoint that hangs (not one that refuses), the hard case for
# timeouts. Each stall is logged to stdout as "stall start EPOCH" / "stall end EPOCH" (bench/soak.sh reads
# them to tell which samples fell inside a stall).
# Usage: stall_proxy.py LISTEN_PORT UPSTREAM_PORT [PERIOD_S=120] [STALL_S=20]
import asyncio, sys, time

listen_port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
period = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
stall = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
if not 0 < stall < period:
    sys.exit("stall_proxy: need 0 < STALL < PERIOD")
flowing = asyncio.Event()


def say(text):
    print(text, flush=True)


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            await flowing.wait()  # a stall holds what was read until it ends
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(client_reader, client_writer):
    await flowing.wait()
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pump(client_reader, up_writer), pump(up_reader, client_writer))


async def schedule():
    while True:
        flowing.set()
        await asyncio.sleep(period - stall)
        flowing.clear()
        say(f"stall start {time.time():.3f}")
        await asyncio.sleep(stall)
        say(f"stall end {time.time():.3f}")


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", listen_port, backlog=512)
    say(f"listening {listen_port} -> {upstream_port}, stall {stall} s every {period} s")
    async with server:
        await asyncio.gather(server.serve_forever(), schedule())


asyncio.run(main())
