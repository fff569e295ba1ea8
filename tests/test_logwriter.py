"""
Tests for L{clocksvc._logging.ThreadedWriter} when its file fails: a full
device, a filesystem that fills and is freed, a pipe whose reader goes; and
for C{python -m clocksvc} serving on with its access log failing.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import threading
from typing import IO, cast

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool

from clocksvc._run._logging import ThreadedWriter, say

from ._process import ClocksvcProcess, spawnClocksvc

#: What the writer says when its file fails with C{ENOSPC}.
_DEVICE_FULL = (
    "clocksvc: access log failing: [Errno 28] No space left on device; "
    "dropping lines until it works again"
)
#: What the writer says when its pipe's reader has gone.
_READER_GONE = (
    "clocksvc: access log closed by its reader ([Errno 32] Broken pipe); "
    "writing no more lines"
)


def _problems(stderr: bytes) -> list[str]:
    """
    @return: the lines of C{stderr} that say the log fails: not those that
        say where clocksvc serves, and that it stops.
    """
    return [line for line in stderr.decode().splitlines() if "access log" in line]


class _Told(io.StringIO):
    """
    Standard error for a writer: what it was told, and an event set each
    time it is told something.
    """

    def __init__(self) -> None:
        super().__init__()
        self.told = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        self.told.set()
        return written


class _Gate:
    """
    A C{sleep} for a writer that holds its first batch until the test has
    queued all of it, so that the batch is what the test says.
    """

    def __init__(self) -> None:
        self.open = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.open.wait(10)


def _brokenPipe() -> IO[str]:
    """
    @return: a text file on a pipe whose reader has gone.
    """
    readEnd, writeEnd = os.pipe()
    os.close(readEnd)
    return os.fdopen(writeEnd, "w", encoding="utf-8")


class WriteFailureTests(SynchronousTestCase):
    """
    The writer survives a file that fails, says so once, counts what it
    loses, and takes up again when the file does.
    """

    def test_deviceFull(self) -> None:
        """
        On a device that is always full, the writer says so once on standard
        error, and drops and counts every line, batch after batch.
        """
        if not os.path.exists("/dev/full"):
            raise SkipTest("no /dev/full on this system")
        told = _Told()
        full = open("/dev/full", "w", encoding="utf-8")  # noqa: SIM115
        writer = ThreadedWriter(full, closeFile=True, stderr=told)
        writer.write("1\n")
        self.assertTrue(told.told.wait(10))
        # A batch of their own, once the first has failed.
        for n in range(2, 6):
            writer.write(f"{n}\n")
        writer.close()
        # Closed only once the thread ended, after trying the second batch.
        self.assertTrue(full.closed)
        self.assertEqual(writer.dropped, 5)
        self.assertEqual(told.getvalue(), _DEVICE_FULL + "\n")

    def test_filesystemFills(self) -> None:
        """
        On a filesystem that fills, the line that found room for part of
        itself is finished once room is freed, never glued to another; the
        lines that found none are counted, and said so, in the log and once
        on standard error; the lines after arrive.
        """
        mount, umount = shutil.which("mount"), shutil.which("umount")
        if mount is None or umount is None:
            raise SkipTest("no mount(8) to make a small filesystem with")
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        page = os.sysconf("SC_PAGE_SIZE")
        try:
            subprocess.run(
                [mount, "-t", "tmpfs", "-o", f"size={16 * page}", "tmpfs", directory],
                check=True,
                capture_output=True,
            )
        except subprocess.CalledProcessError as e:
            raise SkipTest(
                "cannot mount a small tmpfs to fill (needs root, or "
                f"CAP_SYS_ADMIN): {e.stderr.decode(errors='replace').strip()}"
            ) from e
        self.addCleanup(subprocess.run, [umount, directory], check=True)
        path = os.path.join(directory, "access.log")
        log = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self.addCleanup(log.close)
        log.write('{"n":0}\n')
        log.flush()
        # tmpfs counts whole pages: full, it still lets the log's first page
        # take the rest of the page, and no more.
        filler = os.path.join(directory, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            with self.assertRaises(OSError) as raised:
                while True:
                    os.write(fd, b"x" * page)
        finally:
            os.close(fd)
        self.assertEqual(raised.exception.errno, errno.ENOSPC)
        told = _Told()
        gate = _Gate()
        writer = ThreadedWriter(log, closeFile=True, stderr=told, sleep=gate)
        long = json.dumps({"n": 1, "pad": "x" * page}) + "\n"
        writer.write(long)
        writer.write('{"n":2}\n')
        gate.open.set()
        self.assertTrue(told.told.wait(10))
        # The disk took part of the long line, and then nothing.
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b'{"n":0}\n' + long[: page - 8].encode())
        os.remove(filler)
        writer.write('{"n":3}\n')
        writer.close()
        with open(path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual(
            lines,
            [
                {"n": 0},
                json.loads(long),
                {"n": 3},
                {"level": "warn", "event": "log_dropped", "lines": 1},
            ],
        )
        self.assertEqual(writer.dropped, 1)
        self.assertEqual(
            told.getvalue().splitlines(),
            [_DEVICE_FULL, "clocksvc: access log working again; 1 line lost"],
        )

    def test_fileObjectFails(self) -> None:
        """
        A file object without a descriptor that fails midway may hold part
        of a line: once it takes lines again, they begin on a line of their
        own, after a newline.
        """

        class Flaky(io.StringIO):
            failing = True

            def write(self, text: str) -> int:
                if self.failing:
                    super().write(text[:3])
                    raise OSError(errno.EIO, os.strerror(errno.EIO))
                return super().write(text)

        out = Flaky()
        told = _Told()
        gate = _Gate()
        writer = ThreadedWriter(out, stderr=told, sleep=gate)
        writer.write("aaaa\n")
        writer.write("bbbb\n")
        gate.open.set()
        self.assertTrue(told.told.wait(10))
        out.failing = False
        writer.write("cccc\n")
        writer.close()
        self.assertEqual(
            out.getvalue().splitlines(),
            ["aaa", "cccc", '{"level": "warn", "event": "log_dropped", "lines": 2}'],
        )
        self.assertEqual(
            told.getvalue().splitlines(),
            [
                "clocksvc: access log failing: [Errno 5] Input/output error; "
                "dropping lines until it works again",
                "clocksvc: access log working again; 2 lines lost",
            ],
        )

    def test_readerGone(self) -> None:
        """
        On a pipe whose reader has gone, the writer says so once, without a
        traceback, and stops; later lines are ignored, not queued.
        """
        out = _brokenPipe()
        told = _Told()
        writer = ThreadedWriter(out, closeFile=True, stderr=told)
        writer.write("lost\n")
        self.assertTrue(told.told.wait(10))
        for n in range(1000):
            writer.write(f"{n}\n")
        self.assertEqual(writer.queued, 0)
        writer.close()
        self.assertTrue(out.closed)
        self.assertEqual((writer.heldBytes, writer.dropped), (0, 0))
        self.assertEqual(told.getvalue(), _READER_GONE + "\n")

    def test_sleepFails(self) -> None:
        """
        If waiting for a batch to gather raises (as C{time.sleep} did when
        the clock was stepped), the writer says so once and writes every
        line all the same, batch after batch.
        """
        written = threading.Event()

        class Watched(io.StringIO):
            def write(self, text: str) -> int:
                count = super().write(text)
                written.set()
                return count

        def sleep(seconds: float) -> None:
            raise OverflowError("sleep length is too large")

        out = Watched()
        told = _Told()
        writer = ThreadedWriter(out, stderr=told, sleep=sleep)
        for n in range(3):
            written.clear()
            writer.write(f"{n}\n")
            self.assertTrue(written.wait(10))
        writer.close()
        self.assertEqual(out.getvalue(), "0\n1\n2\n")
        self.assertEqual(
            told.getvalue(),
            "clocksvc: access log writer: OverflowError: sleep length is too "
            "large; going on\n",
        )

    def test_unexpected(self) -> None:
        """
        Whatever else goes wrong in the writer's thread is said once, the
        batch counted as lost, and the thread goes on to the next.
        """
        readEnd, writeEnd = os.pipe()
        self.addCleanup(os.close, readEnd)

        class Misnamed:
            """
            A file with a descriptor, and an encoding Python has never
            heard of.
            """

            encoding = "no-such-encoding"

            def fileno(self) -> int:
                return writeEnd

            def flush(self) -> None:
                pass

            def close(self) -> None:
                os.close(writeEnd)

        told = _Told()
        writer = ThreadedWriter(cast(IO[str], Misnamed()), True, told)
        writer.write("1\n")
        self.assertTrue(told.told.wait(10))
        writer.write("2\n")
        writer.close()
        self.assertEqual(writer.dropped, 2)
        self.assertEqual(
            told.getvalue(),
            "clocksvc: access log writer: LookupError: unknown encoding: "
            "no-such-encoding; going on\n",
        )


class SayTests(SynchronousTestCase):
    """
    L{say} to a stream nobody reads any more loses the line, quietly.
    """

    def test_readerGone(self) -> None:
        """
        On a pipe whose reader has gone, L{say} neither raises nor leaves a
        line behind in the stream's buffer for the next write to trip on.
        """
        out = _brokenPipe()
        self.addCleanup(out.close)
        say(out, "clocksvc: stopping")
        say(out, "clocksvc: stopped")
        out.flush()
        # The stream now writes where nothing is kept.
        self.assertEqual(os.fstat(out.fileno()).st_rdev, os.stat(os.devnull).st_rdev)


class ProcessTests(TestCase):
    """
    C{python -m clocksvc} as a real child process, with its log failing.
    """

    timeout = 30

    async def serve(self, *args: str) -> tuple[str, ClocksvcProcess, Deferred[None]]:
        """
        Start clocksvc on a free port of 127.0.0.1.

        @return: its URL; the process, which is killed at cleanup if the
            test has not ended it; and a L{Deferred} that fires once it has
            said on standard error that its log fails.
        """
        process = spawnClocksvc("--listen", "tcp:0:interface=127.0.0.1", *args)
        toldError: Deferred[None] = Deferred()
        errReceived = process.errReceived

        def watch(data: bytes) -> None:
            errReceived(data)
            if b"clocksvc: access log" in process.stderr and not toldError.called:
                toldError.callback(None)

        # Watched for the line, as ClocksvcProcess watches for its first:
        # mypy forbids assigning to a method, which is how this is done.
        process.errReceived = watch  # type: ignore[method-assign]

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        line = (await process.firstLine).decode()
        prefix = "clocksvc: serving "
        self.assertTrue(line.startswith(prefix), (line, process.stderr))
        return line[len(prefix) :], process, toldError

    async def get(self, url: str) -> int:
        """
        @return: the status of a GET of C{url}, on a connection of its own.
        """
        pool = HTTPConnectionPool(reactor, persistent=False)
        response = await treq.get(url, pool=pool)
        await response.content()
        return cast(int, response.code)

    async def test_accessLogDeviceFull(self) -> None:
        """
        With its access log on a full device, clocksvc serves on, says once
        on standard error that the log fails, and stops cleanly, with no
        traceback.
        """
        url, process, toldError = await self.serve("--access-log", "/dev/full")
        self.assertEqual(await self.get(url), 200)
        await toldError
        self.assertEqual(await self.get(url), 200)
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        self.assertEqual(_problems(process.stderr), [_DEVICE_FULL])

    async def test_stdoutReaderGone(self) -> None:
        """
        With its access log on standard output, and that output's reader
        gone (C{python -m clocksvc | head -1}), clocksvc says once that the
        log has stopped, serves on, and stops cleanly, with no traceback.
        """
        url, process, toldError = await self.serve()
        assert process.transport is not None
        process.transport.closeStdout()
        self.assertEqual(await self.get(url), 200)
        await toldError
        self.assertEqual(await self.get(url), 200)
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        self.assertEqual(_problems(process.stderr), [_READER_GONE])

    async def test_stdoutReaderGoneNoAccessLog(self) -> None:
        """
        With standard output's reader gone and the log on standard error,
        clocksvc writes nothing to standard output (its lines for people
        go to standard error too): it drains and stops with status 0.
        """
        url, process, _ = await self.serve("--access-log", "off")
        assert process.transport is not None
        process.transport.closeStdout()
        self.assertEqual(await self.get(url), 200)
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        events = [
            json.loads(line)
            for line in process.stderr.splitlines()
            if line.startswith(b"{")
        ]
        self.assertEqual(
            # Whether the clock's state is an event depends on the machine's
            # clock (tests.test_clockhealth has it).
            [
                (e["level"], e["event"])
                for e in events
                if not e["event"].startswith("clock_")
            ],
            [
                ("info", "listening"),
                ("info", "timezone"),
                ("info", "core"),
                ("info", "tzdata"),
                ("info", "geoip"),
                ("info", "shutdown"),
                ("info", "shutdown"),
            ],
            events,
        )
