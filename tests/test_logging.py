"""
Tests for L{clocksvc._run._logging}: the JSON-lines log and its writer thread, and
the access log as a site emits it.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from datetime import datetime, timezone
from typing import IO, cast

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.logger import ILogObserver, LogLevel, globalLogPublisher
from twisted.logger import Logger as TwistedLogger
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._http import Finished
from clocksvc._run._logging import (
    JSONLinesObserver,
    ThreadedWriter,
    accessLog,
    inFormat,
    serviceLog,
    textLine,
)
from clocksvc._run._sharedlog import LineFile
from clocksvc._web import ACCESS_FIELDS, MAX_FIELD_CHARS, AccessLog, accessLine
from clocksvc._web import isoTime as _isoTime
from clocksvc._web._site import buildSite

from ._helpers import BILLENNIUM, UNSYNCHRONIZED, RawConnection, clockAt


def _accessLine(event: dict[str, object]) -> str:
    """
    @return: the access line for C{event}, as L{JSONLinesObserver} writes
        it.
    """
    when = event["when"]
    assert isinstance(when, (int, float))
    return accessLine(when, *(event.get(name) for name in ACCESS_FIELDS))


class JSONLinesObserverTests(SynchronousTestCase):
    """
    L{JSONLinesObserver} writes clocksvc's events and others' warnings.
    """

    def setUp(self) -> None:
        self.lines: list[str] = []
        self.observer = JSONLinesObserver(self.lines.append)
        globalLogPublisher.addObserver(self.observer)
        self.addCleanup(globalLogPublisher.removeObserver, self.observer)

    def written(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.lines]

    def test_access(self) -> None:
        """
        An access event is one line with the request's fields, timed by the
        site's clock.
        """
        accessLog.info(
            "{method} {path} {status}",
            when=BILLENNIUM + 0.25,
            client="127.0.0.1",
            method="GET",
            path="/now",
            status=200,
            bytes=357,
            duration_ms=0.5,
            user_agent="curl/8",
            scheme="https",
        )
        self.assertEqual(
            self.lines,
            [
                '{"time":"2001-09-09T01:46:40.250+00:00","client":"127.0.0.1",'
                '"method":"GET","path":"/now","status":200,"bytes":357,'
                '"duration_ms":0.5,"user_agent":"curl/8","scheme":"https"}\n'
            ],
        )

    def test_accessOff(self) -> None:
        """
        With the access log off, access events are not written.
        """
        observer = JSONLinesObserver(self.lines.append, access=False)
        observer({"log_namespace": "clocksvc.access", "when": 0})
        self.assertEqual(self.lines, [])

    def test_service(self) -> None:
        """
        Service events carry their kind and their formatted message.
        """
        serviceLog.info("serving {address}", event="listening", address="x:1")
        [line] = self.written()
        self.assertEqual(
            (line["level"], line["event"], line["message"]),
            ("info", "listening", "serving x:1"),
        )

    def test_othersQuiet(self) -> None:
        """
        Twisted's own informational chatter is left out; its warnings and
        errors are kept, errors with their traceback.
        """
        other = TwistedLogger(namespace="twisted.web.http")
        other.info("Timing out client")
        self.assertEqual(self.lines, [])
        other.warn("something odd")
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            other.failure("it broke", Failure())
        [warning, error] = self.written()
        self.assertEqual(
            (warning["level"], warning["message"]), ("warn", "something odd")
        )
        self.assertEqual((error["level"], error["message"]), ("critical", "it broke"))
        self.assertIn("ZeroDivisionError", str(error["traceback"]))
        # trial fails a test that logs an error, unless the test takes it.
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)


#: Text of any length, and text around L{MAX_FIELD_CHARS}, where the access
#: line cuts the request's fields.
_requestText = st.text() | st.text(
    min_size=MAX_FIELD_CHARS - 1, max_size=MAX_FIELD_CHARS + 1
)


class TextLineTests(SynchronousTestCase):
    """
    L{textLine} writes the log's lines for people (C{--log-format text}).
    """

    def test_access(self) -> None:
        """
        An access line: time, client, method and path, status, bytes,
        duration, scheme, user agent; what a terminal would act on is
        escaped.
        """
        line = accessLine(
            BILLENNIUM,
            "127.0.0.1",
            "GET",
            "/now\x1b[2J",
            200,
            357,
            0.5,
            "curl/8",
            "https",
        )
        self.assertEqual(
            textLine(line),
            '2001-09-09T01:46:40.000+00:00 127.0.0.1 "GET /now\\x1b[2J" 200 357 '
            '0.5ms https "curl/8"\n',
        )
        unix = accessLine(BILLENNIUM, "", "GET", "/", 200, 1, 0.1, "", "http")
        self.assertEqual(
            textLine(unix),
            '2001-09-09T01:46:40.000+00:00 - "GET /" 200 1 0.1ms http ""\n',
        )

    def test_event(self) -> None:
        """
        A service event: time, level, message, its figures after it, and
        its traceback on the lines after that.
        """
        lines: list[str] = []
        observer = JSONLinesObserver(inFormat(lines.append, "text"))
        observer(
            {
                "log_namespace": "clocksvc.service",
                "log_level": LogLevel.warn,
                "log_time": BILLENNIUM,
                "log_format": "the clock stepped by {ms} ms",
                "ms": 1500,
                "event": "clock_step",
                "details": {"step_ms": 1500},
            }
        )
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            observer(
                {
                    "log_namespace": "clocksvc.service",
                    "log_level": LogLevel.error,
                    "log_time": BILLENNIUM,
                    "log_format": "oops",
                    "log_failure": Failure(),
                }
            )
        self.assertEqual(
            lines[0],
            "2001-09-09T01:46:40.000+00:00 warn the clock stepped by 1500 ms "
            "(step_ms=1500)\n",
        )
        head, *traceback = lines[1].splitlines()
        self.assertEqual(head, "2001-09-09T01:46:40.000+00:00 error oops")
        self.assertIn("ZeroDivisionError", traceback[-1])

    def test_json(self) -> None:
        """
        In C{json}, the lines go as they are.
        """
        lines: list[str] = []
        write = lines.append
        self.assertIs(inFormat(write, "json"), write)


class AccessLineTests(SynchronousTestCase):
    """
    The access line's own formatter writes what C{json.dumps} would.
    """

    @given(
        st.floats(min_value=-1e10, max_value=253402300798.0),
        st.lists(st.floats(min_value=0, max_value=0.003), max_size=20),
    )
    def test_isoTime(self, start: float, steps: list[float]) -> None:
        """
        L{_isoTime} gives what C{datetime.isoformat} gives, to the
        millisecond: for any time, and for times a few milliseconds after
        it, as a busy server's lines are, whether or not the last one fell
        in the same millisecond.
        """
        seconds = start
        for step in [0.0, *steps]:
            seconds += step
            self.assertEqual(
                _isoTime(seconds),
                datetime.fromtimestamp(seconds, timezone.utc).isoformat(
                    timespec="milliseconds"
                ),
            )

    @given(
        st.floats(min_value=0, max_value=2e9),
        st.floats(min_value=0, max_value=1e4),
        st.binary(max_size=12) | st.binary(min_size=1023, max_size=1025),
        st.binary() | st.binary(min_size=1023, max_size=1025),
        st.integers(min_value=100, max_value=599),
        st.integers(min_value=0, max_value=2**40),
        st.none() | st.binary() | st.binary(min_size=1023, max_size=1025),
        st.none() | st.booleans(),
        st.sampled_from(["127.0.0.1", "::1", "2001:db8::1"]),
    )
    def test_accessLogLines(
        self,
        when: float,
        seconds: float,
        method: bytes,
        target: bytes,
        status: int,
        length: int,
        agent: bytes | None,
        secure: bool | None,
        host: str,
    ) -> None:
        """
        The line L{AccessLog} writes for a request, from the pieces it keeps
        or not, is the one L{accessLine} makes of its fields, each time.
        """
        address = (IPv6Address if ":" in host else IPv4Address)("TCP", host, 1)
        finished = Finished(
            when, seconds, method, target, status, length, address, agent, secure
        )
        expected = accessLine(
            when,
            host,
            method.decode("latin-1"),
            target.decode("latin-1"),
            status,
            length,
            round(seconds * 1000, 3),
            (agent or b"").decode("latin-1"),
            "https" if secure else "http",
        )
        lines: list[str] = []
        log = AccessLog(lines.append)
        log.requestFinished(finished)
        log.requestFinished(finished)
        self.assertEqual(lines, [expected, expected])

    @given(
        st.floats(min_value=0, max_value=2e9),
        st.text(),
        _requestText,
        _requestText,
        st.integers(),
        st.integers(),
        st.floats(),
        _requestText,
        st.text(),
    )
    def test_line(
        self,
        when: float,
        client: str,
        method: str,
        path: str,
        status: int,
        length: int,
        duration: float,
        agent: str,
        scheme: str,
    ) -> None:
        """
        Whatever the fields hold, the line is C{json.dumps}'s compact form of
        them, timed by C{when}; with the method, path and user agent cut to
        L{MAX_FIELD_CHARS}, and their full lengths under C{"truncated"} if
        any was cut.
        """
        fields: dict[str, object] = {
            "client": client,
            "method": method,
            "path": path,
            "status": status,
            "bytes": length,
            "duration_ms": duration,
            "user_agent": agent,
            "scheme": scheme,
        }
        written = {"time": _isoTime(when), **fields}
        truncated = {}
        for name, value in [("method", method), ("path", path), ("user_agent", agent)]:
            if len(value) > MAX_FIELD_CHARS:
                written[name] = value[:MAX_FIELD_CHARS]
                truncated[name] = len(value)
        if truncated:
            written["truncated"] = truncated
        self.assertEqual(
            _accessLine({"when": when, **fields}),
            json.dumps(written, separators=(",", ":")) + "\n",
        )

    def test_truncated(self) -> None:
        """
        A request line and headers at clocksvc's limits, of characters JSON
        escapes at six bytes each, make an access line that holds the first
        L{MAX_FIELD_CHARS} of the method, path and user agent, says how long
        each was, and is a few KiB rather than a hundred.
        """
        # As the site decodes them: Latin-1, one character a byte.
        method = "\x01" * (8 * 1024)
        path = "/" + "\x7f" * (8 * 1024 - 1)
        agent = "\xff" * (16 * 1024)
        line = _accessLine(
            {
                "when": 0.0,
                "client": "127.0.0.1",
                "method": method,
                "path": path,
                "status": 414,
                "bytes": 0,
                "duration_ms": 0.0,
                "user_agent": agent,
            }
        )
        written = json.loads(line)
        self.assertEqual(
            (written["method"], written["path"], written["user_agent"]),
            (
                method[:MAX_FIELD_CHARS],
                path[:MAX_FIELD_CHARS],
                agent[:MAX_FIELD_CHARS],
            ),
        )
        self.assertEqual(
            written["truncated"],
            {"method": 8 * 1024, "path": 8 * 1024, "user_agent": 16 * 1024},
        )
        # Three fields of six-byte escapes, and the rest of the line.
        self.assertLess(len(line), 3 * 6 * MAX_FIELD_CHARS + 300)
        self.assertEqual(line.count("\n"), 1)

    def test_notTruncated(self) -> None:
        """
        Fields of L{MAX_FIELD_CHARS} are written whole, without
        C{"truncated"}.
        """
        path = "/" + "p" * (MAX_FIELD_CHARS - 1)
        written = json.loads(
            _accessLine(
                {
                    "when": 0.0,
                    "client": "::1",
                    "method": "GET",
                    "path": path,
                    "status": 404,
                    "bytes": 9,
                    "duration_ms": 0.0,
                    "user_agent": "a" * MAX_FIELD_CHARS,
                }
            )
        )
        self.assertEqual(written["path"], path)
        self.assertNotIn("truncated", written)

    def test_otherTypes(self) -> None:
        """
        Fields of other types than a site gives, from someone else's event
        in the namespace, are written by C{json.dumps} all the same.
        """
        self.assertEqual(
            _accessLine({"when": 0, "status": "200", "bytes": None}),
            '{"time":"1970-01-01T00:00:00.000+00:00","client":null,"method":null,'
            '"path":null,"status":"200","bytes":null,"duration_ms":null,'
            '"user_agent":null,"scheme":null}\n',
        )


class ThreadedWriterTests(SynchronousTestCase):
    """
    L{ThreadedWriter} writes lines in order from its own thread.
    """

    def test_writes(self) -> None:
        """
        Every line queued is written, in order, by the time it is closed.
        """
        out = io.StringIO()
        writer = ThreadedWriter(out)
        for n in range(1000):
            writer.write(f"{n}\n")
        writer.close()
        self.assertEqual(out.getvalue(), "".join(f"{n}\n" for n in range(1000)))
        self.assertFalse(out.closed)

    def test_boundedWhenStuck(self) -> None:
        """
        When the file stops taking lines, the writer holds at most
        C{MAX_QUEUED} lines, the batch it is writing included, and counts
        the rest as dropped; once the file takes lines again, a line says
        how many were lost.
        """
        release = threading.Event()

        class Stuck(io.StringIO):
            def write(self, text: str) -> int:
                release.wait(10)
                return super().write(text)

        out = Stuck()
        writer = ThreadedWriter(out)
        writer.write("first\n")
        # Once the thread has taken the first line, it is stuck writing it.
        deadline = time.monotonic() + 10
        while writer.queued and time.monotonic() < deadline:
            time.sleep(0.001)
        total = ThreadedWriter.MAX_QUEUED + 1000
        for n in range(total):
            writer.write(f"{n}\n")
        # The first line is held too, in the batch being written.
        fitted = ThreadedWriter.MAX_QUEUED - 1
        self.assertEqual(writer.queued, fitted)
        self.assertEqual(writer.dropped, total - fitted)
        release.set()
        writer.close()
        lines = out.getvalue().splitlines()
        [dropped] = [json.loads(line) for line in lines if line.startswith("{")]
        self.assertEqual(dropped["event"], "log_dropped")
        self.assertEqual(dropped["lines"], total - fitted)
        # The first line, then those that fitted, in order, then the count.
        self.assertEqual(lines[:-1], ["first"] + [str(n) for n in range(fitted)])

    def test_boundedInBytes(self) -> None:
        """
        When the file stops taking lines, long lines fill
        C{MAX_QUEUED_BYTES} long before C{MAX_QUEUED} lines: the writer never
        holds more bytes than that, the batch it is writing included, and
        counts the lines beyond as dropped.
        """
        release = threading.Event()

        class Stuck(io.StringIO):
            def write(self, text: str) -> int:
                release.wait(10)
                return super().write(text)

        out = Stuck()
        writer = ThreadedWriter(out)
        # As long as an access line for a 16 KiB request was before
        # truncation: JSON escapes of the path and the user agent.
        huge = "x" * (64 * 1024 - 1) + "\n"
        writer.write(huge)
        deadline = time.monotonic() + 10
        while writer.queued and time.monotonic() < deadline:
            time.sleep(0.001)
        most = 0
        for _ in range(1000):
            writer.write(huge)
            most = max(most, writer.heldBytes)
        self.assertLessEqual(most, ThreadedWriter.MAX_QUEUED_BYTES)
        # 16 MiB holds 256 such lines, the one being written among them.
        fitted = ThreadedWriter.MAX_QUEUED_BYTES // len(huge) - 1
        self.assertEqual(writer.queued, fitted)
        self.assertEqual(writer.dropped, 1000 - fitted)
        release.set()
        writer.close()
        lines = out.getvalue().splitlines()
        self.assertEqual(lines[:-1], [huge[:-1]] * (1 + fitted))
        self.assertEqual(
            json.loads(lines[-1]),
            {"level": "warn", "event": "log_dropped", "lines": 1000 - fitted},
        )
        self.assertEqual(writer.heldBytes, 0)

    def test_lineFile(self) -> None:
        """
        A file object with no C{fileno}, as the workers' L{LineFile}, is
        written with its own C{write}.
        """
        readEnd, writeEnd = os.pipe()
        self.addCleanup(os.close, readEnd)
        writer = ThreadedWriter(cast(IO[str], LineFile(writeEnd)), closeFile=True)
        writer.write("one\n")
        writer.write("two\n")
        writer.close()
        self.assertEqual(os.read(readEnd, 100), b"one\ntwo\n")

    def test_closesItsFile(self) -> None:
        """
        Told the file is its own, the writer closes it after the last line.
        """
        out = io.StringIO()
        lines: list[str] = []
        # Record what the file held when closed: mypy forbids assigning to
        # a method, which is how this test double is made.
        out.close = lambda: lines.append(out.getvalue())  # type: ignore[method-assign]
        writer = ThreadedWriter(out, closeFile=True)
        writer.write("last\n")
        writer.close()
        self.assertEqual(lines, ["last\n"])


class SiteAccessLogTests(SynchronousTestCase):
    """
    A site with its access log on emits one event per answered request.
    """

    def test_events(self) -> None:
        """
        Each answered request is logged with its client, method, path,
        status, size, duration and user agent; with the log off, none is.
        """
        events: list[dict[str, object]] = []
        # Any callable taking an event observes; zope cannot tell mypy so.
        observer = cast(ILogObserver, events.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        for accessLogOn in [True, False]:
            site = buildSite(clockAt(BILLENNIUM), accessLog=accessLogOn)
            connection = RawConnection(site)
            connection.send(
                b"GET /?iso HTTP/1.1\r\nHost: x\r\nUser-Agent: tester/1\r\n\r\n"
            )
        [event] = [e for e in events if e.get("log_namespace") == "clocksvc.access"]
        self.assertEqual(
            {k: event[k] for k in ["when", "client", "method", "path", "status"]},
            {
                "when": BILLENNIUM,
                "client": "127.0.0.1",
                "method": "GET",
                "path": "/?iso",
                "status": 200,
            },
        )
        self.assertEqual(
            (event["bytes"], event["duration_ms"], event["user_agent"]),
            (20, 0.0, "tester/1"),
        )
        self.assertEqual(event["log_level"], LogLevel.info)

    def test_linesStraightToTheWriter(self) -> None:
        """
        A site given a callable for its access log writes each answered
        request to it as the very line that L{JSONLinesObserver} writes for
        the event a site with C{accessLog=True} emits, and emits no event.
        """
        request = (
            b'GET /now.txt?x=%22 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\xe9"/1\r\n\r\n'
        )
        events: list[dict[str, object]] = []
        observer = cast(ILogObserver, events.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        RawConnection(buildSite(clockAt(BILLENNIUM), accessLog=True)).send(request)
        fromEvent: list[str] = []
        for event in events:
            if event.get("log_namespace") == "clocksvc.access":
                JSONLinesObserver(fromEvent.append)(event)
        del events[:]
        straight: list[str] = []
        site = buildSite(clockAt(BILLENNIUM), accessLog=straight.append)
        RawConnection(site).send(request)
        self.assertEqual(len(straight), 1)
        self.assertEqual(straight, fromEvent)
        self.assertIn('"path":"/now.txt?x=%22"', straight[0])
        self.assertEqual(
            [e for e in events if e.get("log_namespace") == "clocksvc.access"], []
        )

    def test_messagesBesideLegacyObservers(self) -> None:
        """
        A service event's message survives an observer of
        C{twisted.python.log} (as an embedding application may have), which
        replaces an event's C{message} key unless it is a tuple.
        """
        from twisted.python import log as legacy

        def ignore(event: dict[str, object]) -> None:
            pass

        legacy.addObserver(ignore)
        self.addCleanup(legacy.removeObserver, ignore)
        lines: list[str] = []
        observer = JSONLinesObserver(lines.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        site = buildSite(clockAt(BILLENNIUM), readClock=lambda: UNSYNCHRONIZED)
        RawConnection(site).send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        [state] = [json.loads(line) for line in lines if "clock_" in line]
        self.assertEqual(
            state["message"],
            "the clock is not synchronized (maximum error 16000 ms)",
        )
