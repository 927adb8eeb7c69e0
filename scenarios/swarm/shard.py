"""One swarm shard process: ``python -m scenarios.swarm.shard``.

Started by :func:`scenarios.swarm.start_swarm` (never forked: the runner may have threads).
The plan arrives as the first line of stdin (``--plan-stdin``; tokens then never show in
``ps``) or from a file (``--plan-file``, handy by hand). The shard

* prints ``ProgressReport.to_line()`` on stdout once a second, right after flushing its
  samples, so every sample counted in a printed report is already on disk;
* stops cleanly (finish replies in flight, close sessions, write its Parquet part, exit 0)
  at ``duration_s``, on SIGTERM or SIGINT, or when stdin reaches EOF -- so a shard whose
  runner died does not live on;
* arms ``SIGALRM`` as a last resort, so it can never run unbounded even if its loop hangs.

Exit codes: 0 finished, 2 bad arguments or plan, 3 could not run (e.g. cannot write).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from scenarios.record import SampleWriter
from scenarios.swarm.engine import ShardEngine
from scenarios.swarm.plan import SwarmPlan

__all__ = ["main"]

_HARD_STOP_MARGIN_S = 15.0  # beyond start wait + duration + drain + close timeouts


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scenarios.swarm.shard", description=__doc__)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--plan-stdin", action="store_true", help="read the plan JSON from stdin")
    src.add_argument("--plan-file", type=Path, help="read the plan JSON from this file")
    p.add_argument("--run-dir", type=Path, required=True, help="run record directory")
    p.add_argument("--shard", type=int, default=0, help="this shard's index, 0..shards-1")
    p.add_argument("--worker", type=int, required=True, help="worker number of the samples")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--start-at", type=float, default=None, help="common start, epoch s")
    start.add_argument(
        "--start-from-stdin",
        action="store_true",
        help="print a first report once ready, then read the start (epoch s) from stdin",
    )
    return p.parse_args(argv)


def _read_line(fd: int) -> bytes:
    """One line from a raw fd, reading byte by byte so nothing after it is consumed."""
    out = bytearray()
    while True:
        b = os.read(fd, 1)
        if not b or b == b"\n":
            return bytes(out)
        out += b


class _EofWatcher(asyncio.Protocol):
    """Calls ``on_eof`` when the write end of our stdin pipe closes (the runner is gone)."""

    def __init__(self, on_eof: Callable[[], None]) -> None:
        self._on_eof = on_eof

    def eof_received(self) -> bool | None:
        self._on_eof()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_eof()


class _Stop(Exception):
    """SIGTERM/SIGINT arrived while blocked before the event loop runs."""


@contextlib.contextmanager
def _signals_raise_stop() -> Iterator[None]:
    def handler(signum: int, frame: object) -> None:
        raise _Stop

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, prev in old.items():
            signal.signal(sig, prev)


def _emit(line: str) -> None:
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # nobody reads our progress any more; samples still go to disk


async def _run(engine: ShardEngine, writer: SampleWriter, watch_stdin: bool, start_at: float | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, engine.stop)
    if watch_stdin:
        await loop.connect_read_pipe(lambda: _EofWatcher(engine.stop), sys.stdin)
    _emit(engine.progress().to_line())  # a report before the first connect: the baseline
    main = loop.create_task(engine.run(start_at))
    while not main.done():
        await asyncio.wait([main], timeout=1.0)
        engine.flush_rows()
        writer.flush()
        if not main.done():
            _emit(engine.progress().to_line())
    main.result()


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        text = _read_line(0) if args.plan_stdin else args.plan_file.read_bytes()
        plan = SwarmPlan.from_json(text)
        if not 0 <= args.shard < plan.shards:
            raise ValueError(f"--shard must be in 0..{plan.shards - 1}, got {args.shard}")
    except (OSError, ValueError) as exc:
        print(f"swarm shard: invalid plan: {exc}", file=sys.stderr)
        return 2
    try:
        writer = SampleWriter(args.run_dir, worker=args.worker)
    except OSError as exc:
        print(f"swarm shard: cannot write samples under {args.run_dir}: {exc}", file=sys.stderr)
        return 3
    _warm_up_arrow()
    engine = ShardEngine(plan, args.shard, args.worker, writer)
    start_at: float | None = args.start_at
    if args.start_from_stdin:
        # Barrier: say we are ready (imports done, sessions planned), then wait for the
        # common start time, so every shard's ramp begins on the same clock.
        _emit(engine.progress().to_line())
        try:
            with _signals_raise_stop():
                line = _read_line(0)
            start_at = float(line)
        except (_Stop, ValueError):  # stopped, or the runner went away, before the start
            writer.close()
            return 0
    wait = 0.0 if start_at is None else max(0.0, start_at - time.time())
    budget = wait + plan.duration_s + plan.drain_timeout_s + 2 * plan.close_timeout_s
    signal.alarm(math.ceil(budget + _HARD_STOP_MARGIN_S))  # default action: terminate
    # Only a pipe's EOF means "the runner is gone"; /dev/null or a terminal would stop us
    # at once or never, so they are not watched.
    mode = os.fstat(0).st_mode
    watch = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_run(engine, writer, watch, start_at))
    finally:
        writer.close()
        _emit(engine.progress().to_line())  # done=True: the final, complete counts
    return 0


def _warm_up_arrow() -> None:
    """Pay pyarrow's lazy imports (it checks for pandas on first use: about a second) now.

    Otherwise the first flush, one second into the ramp, stalls the event loop that long,
    and every connect and reply in flight then looks a second slower than it was.
    """
    import pyarrow as pa

    pa.array([0.0], type=pa.float64())


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


if __name__ == "__main__":
    sys.exit(main())
