#!/usr/bin/env python3
"""A TCP relay that adds a fixed one-way delay in each direction (for first-byte-rtt.sh).

This kernel has no netem qdisc, so latency is added here: every byte read on one side is
written to the other side DELAY_MS later, in order. Loopback only.

    delay-relay.py DELAY_MS LISTEN_HOST TARGET_HOST PORT [PORT ...]

listens on LISTEN_HOST:PORT for each PORT and forwards to TARGET_HOST:PORT. Prints "ready" once
every port is listening.
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    pending = asyncio.Queue()

    async def sender():
        while True:
            due, data = await pending.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(sender())
    try:
        while True:
            data = await reader.read(65536)
            pending.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await task
    except (ConnectionError, asyncio.CancelledError):
        task.cancel()
        writer.close()


async def serve(listen_host, target_host, port, delay):
    async def on_client(creader, cwriter):
        try:
            treader, twriter = await asyncio.open_connection(target_host, port)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pipe(creader, twriter, delay), pipe(treader, cwriter, delay), return_exceptions=True)

    return await asyncio.start_server(on_client, listen_host, port)


async def main():
    delay = float(sys.argv[1]) / 1000
    listen_host, target_host = sys.argv[2], sys.argv[3]
    servers = [await serve(listen_host, target_host, int(p), delay) for p in sys.argv[4:]]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
