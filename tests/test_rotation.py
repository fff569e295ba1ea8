"""
Tests for log rotation: L{ThreadedWriter.reopen}, and SIGHUP to C{python -m
clocksvc}, alone and with C{--workers}, which reopens C{--access-log PATH}
once logrotate has renamed it, with no line lost or cut in two.
"""

from __future__ import annotations

import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase

from clocksvc._run._logging import ThreadedWriter
from clocksvc._run._signals import Reload

from ._helpers import SAID_CORE, eventually, within
from ._process import PATIENCE, ClocksvcProcess
from ._workers import startKillingWorkers


def waitFor(condition: Callable[[], object], seconds: float = 30.0) -> bool:
    """
    Poll C{condition()} from this thread until it is true, at most
    C{seconds}.

    @return: whether it became true.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class ReopenTests(SynchronousTestCase):
    """
    L{ThreadedWriter.reopen} moves the writer to a newly opened file between
    two batches.
    """

    def setUp(self) -> None:
        self.path = Path(self.mktemp())
        self.rotated = self.path.with_name(self.path.name + ".1")

    def open(self) -> io.TextIOWrapper:
        return open(self.path, "a", encoding="utf-8")

    def test_reopen(self) -> None:
        """
        Lines before the reopen are in the renamed file, lines after it in
        the new one, each whole and once; the old file is closed.
        """
        first = self.open()
        writer = ThreadedWriter(first, closeFile=True, reopen=self.open)
        for n in range(100):
            writer.write(f"{n}\n")
        self.path.rename(self.rotated)
        writer.reopen()
        self.assertTrue(waitFor(self.path.exists))
        for n in range(100, 200):
            writer.write(f"{n}\n")
        writer.close()
        self.assertTrue(first.closed)
        old = self.rotated.read_text().splitlines()
        new = self.path.read_text().splitlines()
        self.assertEqual(old + new, [str(n) for n in range(200)])
        self.assertEqual(new[-1], "199")
        self.assertEqual(writer.dropped, 0)

    def test_cannotReopen(self) -> None:
        """
        A file that cannot be opened anew is said so on standard error, and
        the writer writes on to the old one.
        """
        told = io.StringIO()

        def fail() -> io.TextIOWrapper:
            raise PermissionError(13, "Permission denied")

        writer = ThreadedWriter(self.open(), closeFile=True, stderr=told, reopen=fail)
        writer.write("1\n")
        writer.reopen()
        self.assertTrue(waitFor(lambda: told.getvalue()))
        writer.write("2\n")
        writer.close()
        self.assertEqual(self.path.read_text(), "1\n2\n")
        self.assertEqual(
            told.getvalue(),
            "clocksvc: access log: cannot reopen: [Errno 13] Permission denied; "
            "writing on to the old file\n",
        )

    def test_notReopened(self) -> None:
        """
        A writer given no way to reopen its file (a standard stream) keeps
        it.
        """
        out = io.StringIO()
        writer = ThreadedWriter(out)
        writer.reopen()
        writer.write("1\n")
        writer.close()
        self.assertEqual(out.getvalue(), "1\n")

    def test_reload(self) -> None:
        """
        L{Reload} calls what was added, in order, each time.
        """
        called: list[int] = []
        reload = Reload()
        reload()
        reload.add(lambda: called.append(1))
        reload.add(lambda: called.append(2))
        reload()
        reload()
        self.assertEqual(called, [1, 2, 1, 2])


class _Requests:
    """
    Requests made one after another, each on a connection of its own, from
    a thread, until told to stop: the traffic that keeps arriving while the
    log is rotated.
    """

    def __init__(self, address: tuple[str, int]) -> None:
        self._address = address
        self.answered = 0
        self.stop = threading.Event()

    def once(self) -> int:
        """
        Make one request.

        @return: its status.
        """
        with socket.create_connection(self._address, timeout=10) as sock:
            sock.sendall(b"GET /now HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            response = b""
            while chunk := sock.recv(65536):
                response += chunk
        return int(response[9:12] or b"0")

    def run(self) -> int:
        """
        @return: how many requests were answered, each with 200.
        """
        while not self.stop.is_set():
            status = self.once()
            if status != 200:
                raise AssertionError(f"status {status}")
            self.answered += 1
        return self.answered


class RotationProcessTests(TestCase):
    """
    Rename the access log, send SIGHUP, and the process writes a new one:
    every request's line is in one of the two files, whole, while requests
    keep arriving throughout.
    """

    timeout = 4 * PATIENCE

    def start(self, *args: str) -> ClocksvcProcess:
        """
        Start clocksvc, killed at cleanup with any workers, if the test has
        not ended it.
        """
        return startKillingWorkers(self, *args)

    async def rotate(self, *args: str) -> None:
        """
        Serve with C{args} and an access log file; while a client makes
        request after request, rename the file, send SIGHUP, and once the
        new file has lines, rename and SIGHUP again; then check that every
        request has its line in one of the three files, once, whole.
        """
        log = Path(self.mktemp())
        log.parent.mkdir(parents=True, exist_ok=True)
        process = self.start(
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--access-log",
            str(log),
            *args,
        )
        await eventually(
            lambda: (
                (
                    b"clocksvc: serving" in process.stderr
                    and (b"workers" in process.stderr or "--workers" not in args)
                )
                or process.exited.called
            ),
            PATIENCE,
            "serving",
        )
        found = re.search(
            rb"clocksvc: serving http://127\.0\.0\.1:(\d+)/", process.stderr
        )
        self.assertIsNotNone(found, process.stderr)
        assert found is not None
        requests = _Requests(("127.0.0.1", int(found.group(1))))
        making = deferToThread(requests.run)
        files = [log.with_name(log.name + f".{n}") for n in (2, 1)]

        def accessLines(path: Path) -> int:
            try:
                return path.read_bytes().count(b'"path":"/now"')
            except FileNotFoundError:
                return 0

        try:
            for rotated in files:
                await eventually(
                    lambda: accessLines(log) >= 50 or making.called,
                    PATIENCE,
                    "lines in the log",
                )
                log.rename(rotated)
                process.signal("HUP")
                # The new file is made, and takes lines, while requests go
                # on arriving.
                await eventually(
                    lambda: accessLines(log) >= 50 or making.called,
                    PATIENCE,
                    "lines in the new file",
                )
        finally:
            requests.stop.set()
        answered = await making
        process.signal("TERM")
        self.assertEqual(
            await within(process.exited, PATIENCE, "exit"), 0, process.stderr
        )
        # The log's writer never said it failed.
        self.assertNotIn(b"access log", process.stderr)
        counts = []
        for path in [*files, log]:
            lines = path.read_text().splitlines()
            # Every line is whole: one JSON object.
            events = [json.loads(line) for line in lines]
            counts.append(sum(event.get("path") == "/now" for event in events))
        self.assertEqual(sum(counts), answered, counts)
        self.assertGreater(min(counts), 0, counts)

    async def test_rotate(self) -> None:
        """
        One process reopens its log on SIGHUP.
        """
        await self.rotate()

    async def test_rotateWorkers(self) -> None:
        """
        With C{--workers 2}, the supervisor passes SIGHUP on, and every
        process reopens the shared log.
        """
        await self.rotate("--workers", "2")

    async def test_hangupWithoutFile(self) -> None:
        """
        SIGHUP, as C{systemctl reload} sends it, to a clocksvc that logs to
        standard output changes nothing, and does not stop it.
        """
        process = self.start("--listen", "tcp:0:interface=127.0.0.1")
        line = await process.firstLine
        found = re.search(rb"http://127\.0\.0\.1:(\d+)/", line)
        assert found is not None, line
        process.signal("HUP")
        process.signal("HUP")
        # A signal is acted on before the process next runs its own code:
        # an answer after it means the process lived through it.
        requests = _Requests(("127.0.0.1", int(found.group(1))))
        self.assertEqual(await deferToThread(requests.once), 200)
        process.signal("TERM")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 0)
        # Where it serves, that it stops, and that it has (and whether it
        # runs pure Python): nothing else.
        self.assertEqual(
            len(process.stderr.splitlines()), 3 + SAID_CORE.count("\n"), process.stderr
        )
