"""A fault-injecting HTTP/1.1 proxy on loopback, between the sync client and the real server.

    proxy = FaultProxy(("127.0.0.1", server_port), seed=7)
    proxy.start()
    client = build_client(proxy.url)
    proxy.set_faults(drop=0.05, delay=0.1, error500=0.05, truncate=0.05, lose=0.05)
    ...
    proxy.stop()

Per request (chosen with a seeded RNG, so a failing run can be replayed):

    drop      close the client's connection before forwarding (the server never sees it)
    delay     wait ``delay_s`` (up to) before forwarding
    error500  answer 500 without forwarding
    truncate  forward, then send only part of the server's answer and close
    lose      forward (the server APPLIES the request), then close without any answer
    pass      forward untouched

Each request goes to the server on a fresh connection with ``Connection:
close`` and the answer is relayed raw; then the client's connection is closed
(the client reconnects: httpx handles that). ``upstream`` can be changed while
running (a server restarted on another port). ``stats`` counts what was done.
Runs its own asyncio loop in a daemon thread; :meth:`stop` closes everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections import Counter

__all__ = ["FaultProxy", "FAULTS"]

FAULTS = ("drop", "delay", "error500", "truncate", "lose")
_500 = (b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 66\r\n"
        b"connection: close\r\n\r\n" + b'{"error": {"code": "injected", "message": "injected by the proxy"}}')


class FaultProxy:
    """See module docstring."""

    def __init__(self, upstream: tuple[str, int], *, seed: int = 0, delay_s: float = 0.2) -> None:
        self.upstream = upstream
        self.rng = random.Random(seed)
        self.delay_s = delay_s
        self.rates: dict[str, float] = {}
        self.only_paths: tuple[str, ...] = ()
        self.stats: Counter[str] = Counter()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_faults(self, **rates: float) -> None:
        """Probabilities per request, e.g. ``set_faults(drop=0.1, lose=0.1)``; no arguments = none."""
        unknown = set(rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        with self._lock:
            self.rates = dict(rates)

    def _choose(self, path: str) -> str:
        with self._lock:
            if self.only_paths and not path.startswith(self.only_paths):
                return "pass"
            roll = self.rng.random()
            for name, rate in self.rates.items():
                if roll < rate:
                    return name
                roll -= rate
            return "pass"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("fault proxy did not start")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        loop.run_until_complete(boot())
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            # Cancel and await every connection handler so no transport is left for the garbage
            # collector to close later (that would surface as an "unraisable" error in another test).
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for w in list(self._writers):
                w.close()
            if self._server is not None:
                await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(5)

    # -- one client connection ---------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await self._one_request(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError, TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        target = [*lines[0].split(" ", 2), "", ""][1]
        length = 0
        kept = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
            if name.strip().lower() in ("connection", "keep-alive"):
                continue
            kept.append(line)
        body = await reader.readexactly(length) if length else b""
        fault = self._choose(target)
        self.stats[fault] += 1
        self.stats["requests"] += 1
        if fault == "drop":
            return
        if fault == "error500":
            writer.write(_500)
            await writer.drain()
            return
        if fault == "delay":
            await asyncio.sleep(self.rng.random() * self.delay_s)  # elapsed time meant: the fault is a slow network
        request = ("\r\n".join([lines[0], *kept, "Connection: close"]) + "\r\n\r\n").encode("latin-1") + body
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.upstream), 5)
        except (TimeoutError, OSError):
            self.stats["upstream_down"] += 1
            return  # like a dead server behind a load balancer: the connection just closes
        self._writers.add(up_writer)
        try:
            up_writer.write(request)
            await up_writer.drain()
            answer = await asyncio.wait_for(up_reader.read(-1), 120)
        finally:
            self._writers.discard(up_writer)
            up_writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await up_writer.wait_closed()
        if fault == "lose":
            return
        if fault == "truncate" and len(answer) > 1:
            answer = answer[: self.rng.randrange(1, len(answer))]
        writer.write(answer)
        await writer.drain()
