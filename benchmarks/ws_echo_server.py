"""A plain WebSocket echo server for the swarm benchmark: websockets on uvloop, 127.0.0.1.

``python benchmarks/ws_echo_server.py --port 0 [--processes 2]`` prints ``PORT <n>`` once
every process is listening, then serves until SIGTERM. Each process has its own listening
socket on the same port (SO_REUSEPORT): the kernel then deals connections out evenly by
address hash. With one shared socket, whichever process woke first took them, so one of four
could pass the 20,000-open-files limit per process at 50,000 connections while the others
had room. Each process calls ``gc.freeze()`` every few seconds so that the
server's own full garbage collections over thousands of connections do not show up as
client latency; what we measure is the client.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import socket
import sys

import uvloop
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


async def _echo(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


async def _serve(sock: socket.socket, ready_fd: int) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    loop.add_signal_handler(signal.SIGINT, stop.set_result, None)
    async with serve(_echo, sock=sock, compression=None, ping_interval=None, max_queue=None, backlog=4096):
        os.write(ready_fd, b"1")
        os.close(ready_fd)
        while not stop.done():
            await asyncio.wait([stop], timeout=3.0)
            gc.freeze()


def _child(sock: socket.socket, ready_fd: int) -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    uvloop.run(_serve(sock, ready_fd))
    os._exit(0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--processes", type=int, default=1)
    args = p.parse_args()
    # loopback, or the private subnet that benchmarks/distributed_swarm.py creates inside
    # its own network namespaces (it exists nowhere else on the machine)
    if args.host not in ("127.0.0.1", "::1", "localhost") and not args.host.startswith("10.213."):
        p.error("the benchmark server only listens on loopback (or the namespace lab's 10.213.x.y)")
    # One listening socket per process, all bound before forking (nothing else runs yet: no
    # threads); the first picks the port when --port is 0, the others join it.
    socks: list[socket.socket] = []
    port = args.port
    for _ in range(max(1, args.processes)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((args.host, port))
        port = sock.getsockname()[1]
        sock.listen(4096)
        sock.setblocking(False)
        socks.append(sock)
    # Block the stop signals before forking: the parent waits for them with sigwait, and
    # one arriving early must not kill the parent and orphan the children.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    children = []
    for i, sock in enumerate(socks):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            for j, other in enumerate(socks):
                if j != i:
                    other.close()
            _child(sock, w)
        os.close(w)
        if os.read(r, 1) != b"1":
            print("server process failed to start", file=sys.stderr)
            return 3
        os.close(r)
        children.append(pid)
    for sock in socks:
        sock.close()  # the children hold theirs
    print(f"PORT {port}", flush=True)
    try:
        signal.sigwait(_STOP_SIGNALS)
    finally:
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        for pid in children:
            os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
