"""
Tests for L{clocksvc._run._shutdown}: draining on SIGTERM, in memory and in a real
child process.
"""

from __future__ import annotations

import io
import json
import socket

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.internet.testing import MemoryReactorClock
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase

from clocksvc._http import Limits
from clocksvc._run._shutdown import GracefulShutdown
from clocksvc._web._site import buildSite

from ._helpers import SAID_CORE, RawConnection
from ._process import ClocksvcProcess, spawnClocksvc


class GracefulShutdownTests(SynchronousTestCase):
    """
    L{GracefulShutdown} drains the site, within its timeout.
    """

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.reactor.advance(1_000_000_000)
        self.site = buildSite(self.reactor, limits=Limits())
        self.port = self.reactor.listenTCP(8880, self.site)
        self.out = io.StringIO()
        self.shutdown = GracefulShutdown(
            self.reactor, self.site, [self.port], 10, self.out
        )

    def test_firstSignalStops(self) -> None:
        """
        The first signal stops the reactor, whose shutdown runs the drain.
        """
        self.shutdown.requested()
        self.assertTrue(self.reactor.hasStopped)

    def test_drainNothing(self) -> None:
        """
        With nothing open, the drain is over at once, with status 0.
        """
        self.successResultOf(self.shutdown.drainNow())
        self.assertEqual(self.successResultOf(self.shutdown.finished), 0)
        self.assertEqual(
            self.out.getvalue(),
            "clocksvc: stopping: draining 0 connection(s) for up to 10 s\n"
            "clocksvc: stopped\n",
        )
        # The drain's timer is cancelled, and the listening port stopped.
        self.assertFalse(self.reactor.getDelayedCalls())

    def test_inFlight(self) -> None:
        """
        A request in flight is answered before the drain is over.
        """
        connection = RawConnection(self.site)
        connection.send(b"GET /?iso HTTP/1.1\r\n")
        drained = self.shutdown.drainNow()
        self.assertNoResult(drained)
        connection.send(b"Host: x\r\n\r\n")
        self.assertIn(b"HTTP/1.1 200 OK", connection.received())
        connection.disconnect()
        self.successResultOf(drained)
        self.assertEqual(self.successResultOf(self.shutdown.finished), 0)

    def test_timeout(self) -> None:
        """
        What is still open when the timeout comes is dropped, and the status
        is 1.
        """
        connection = RawConnection(self.site)
        connection.send(b"GET /?iso HTTP/1.1\r\n")
        drained = self.shutdown.drainNow()
        self.reactor.advance(9.9)
        self.assertFalse(connection.transport.disconnected)
        self.reactor.advance(0.1)
        self.assertTrue(connection.transport.disconnected)
        connection.disconnect()
        self.successResultOf(drained)
        self.assertEqual(self.successResultOf(self.shutdown.finished), 1)
        self.assertIn("clocksvc: stopped, dropping connections\n", self.out.getvalue())

    def test_adminPortsLast(self) -> None:
        """
        The admin ports stop only after the drain, so probes can see
        C{/healthz} say "draining" meanwhile.
        """
        stopped: list[str] = []

        class Port:
            def __init__(self, name: str) -> None:
                self.name = name

            def stopListening(self) -> None:
                stopped.append(self.name)

        # Stand-ins that only record being stopped, all a port needs here;
        # they do not declare IListeningPort, hence the ignores.
        shutdown = GracefulShutdown(
            self.reactor,
            self.site,
            [Port("public")],  # type: ignore[list-item]
            10,
            self.out,
            adminPorts=[Port("admin")],  # type: ignore[list-item]
        )
        connection = RawConnection(self.site)
        connection.send(b"GET /?iso HTTP/1.1\r\n")
        drained = shutdown.drainNow()
        self.assertEqual(stopped, ["public"])
        connection.send(b"Host: x\r\n\r\n")
        connection.disconnect()
        self.successResultOf(drained)
        self.assertEqual(stopped, ["public", "admin"])

    def test_secondSignal(self) -> None:
        """
        A second signal drops what is open at once.
        """
        connection = RawConnection(self.site)
        connection.send(b"GET /?iso HTTP/1.1\r\n")
        self.shutdown.requested()
        drained = self.shutdown.drainNow()
        self.shutdown.requested()
        self.assertTrue(connection.transport.disconnected)
        connection.disconnect()
        self.successResultOf(drained)
        self.assertEqual(self.successResultOf(self.shutdown.finished), 1)


def humanAndLog(
    stdout: bytes, stderr: bytes
) -> tuple[list[str], list[dict[str, object]]]:
    """
    The lines clocksvc says to a person, on standard error, and the JSON
    events of its log, on standard output (with the default C{--access-log
    -}), every line of which is one.
    """
    said = stderr.decode().splitlines()
    return said, [json.loads(line) for line in stdout.decode().splitlines()]


def _connect(port: int, request: bytes) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(request)
    return client


def _readAll(client: socket.socket) -> bytes:
    """
    @return: what the server sends until it closes; a connection it aborts
        ends what was read.
    """
    data = b""
    try:
        while chunk := client.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    client.close()
    return data


class ShutdownProcessTests(TestCase):
    """
    SIGTERM to C{python -m clocksvc}, with clients connected.
    """

    timeout = 30

    async def serve(self, *args: str) -> tuple[int, ClocksvcProcess]:
        process = spawnClocksvc("--listen", "tcp:0:interface=127.0.0.1", *args)
        self.addCleanup(lambda: process.signal("KILL"))
        line = (await process.firstLine).decode()
        return int(line.rsplit(":", 1)[1].rstrip("/")), process

    async def waitFor(self, process: ClocksvcProcess, text: bytes) -> None:
        for _ in range(500):
            if text in process.stderr:
                return
            await deferLater(reactor, 0.01)
        self.fail(f"no {text!r} in {process.stderr!r}")

    async def test_drains(self) -> None:
        """
        SIGTERM: new connections are refused, a request in flight is
        answered, an event stream gets its last event and a clean end, and
        the process exits 0.
        """
        port, process = await self.serve()
        stream = await deferToThread(
            _connect, port, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        partial = await deferToThread(_connect, port, b"GET /?iso HTTP/1.1\r\n")
        await deferLater(reactor, 0.2)
        process.signal("TERM")
        await self.waitFor(process, b"clocksvc: stopping:")
        with self.assertRaises(ConnectionRefusedError):
            await deferToThread(_connect, port, b"")
        partial.sendall(b"Host: x\r\n\r\n")
        answer = await deferToThread(_readAll, partial)
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer)
        self.assertIn(b"\r\nConnection: close\r\n", answer)
        events = await deferToThread(_readAll, stream)
        self.assertIn(
            b'event: shutdown\ndata: {"reason":"server shutting down"}', events
        )
        self.assertTrue(events.endswith(b"\r\n0\r\n\r\n"), events[-40:])
        self.assertEqual(await process.exited, 0)
        said, logged = humanAndLog(process.stdout, process.stderr)
        self.assertEqual(
            said[1:],
            [
                *SAID_CORE.splitlines(),
                "clocksvc: stopping: draining 2 connection(s) for up to 10 s",
                "clocksvc: stopped",
            ],
        )
        self.assertEqual(
            [event["message"] for event in logged if event.get("event") == "shutdown"],
            ["stopping: draining 2 connection(s) for up to 10 s", "stopped"],
        )

    async def test_secondSignal(self) -> None:
        """
        A second SIGTERM drops a request that is still coming, and the exit
        status says so.
        """
        port, process = await self.serve()
        partial = await deferToThread(_connect, port, b"GET /?iso HTTP/1.1\r\n")
        await deferLater(reactor, 0.2)
        process.signal("TERM")
        await self.waitFor(process, b"clocksvc: stopping:")
        process.signal("TERM")
        self.assertEqual(await process.exited, 1)
        self.assertEqual(await deferToThread(_readAll, partial), b"")

    async def test_shutdownTimeout(self) -> None:
        """
        C{--shutdown-timeout} bounds the drain.
        """
        port, process = await self.serve("--shutdown-timeout", "0.5")
        partial = await deferToThread(_connect, port, b"GET /?iso HTTP/1.1\r\n")
        await deferLater(reactor, 0.2)
        process.signal("TERM")
        self.assertEqual(await process.exited, 1)
        said, _ = humanAndLog(process.stdout, process.stderr)
        self.assertEqual(
            said[-2:],
            [
                "clocksvc: stopping: draining 1 connection(s) for up to 0.5 s",
                "clocksvc: stopped, dropping connections",
            ],
        )
        partial.close()
