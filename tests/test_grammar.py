"""
Tests for L{clocksvc._http._grammar}: request lines, the chunked body reader,
C{Content-Length} and C{Connection} values, as pure functions of bytes.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase

from clocksvc._http._grammar import (
    ChunkedDecoder,
    Refusal,
    _fieldLines,
    connectionOptions,
    contentLength,
    parseHead,
    splitHead,
)
from clocksvc._http._limits import Limits
from clocksvc._web._site import metricsOf

from ._rawhttp import exchange
from ._rawsite import serve


def refusal(head: bytes) -> tuple[int, bool] | None:
    """
    @return: the status and bodylessness of the refusal of C{head} (with a
        Host), or L{None} if it is taken.
    """
    try:
        parseHead(head + b"\r\nHost: a", Limits())
    except Refusal as e:
        return e.status, e.bodyless
    return None


class RequestLineTests(SynchronousTestCase):
    """
    L{parseHead} reads RFC 9112's request line: the versions of HTTP/1, and
    the target forms of the methods clocksvc serves.
    """

    def test_higherMinorVersions(self) -> None:
        """
        HTTP/1.2 to HTTP/1.9 are read as HTTP/1.1 (RFC 9110 section 2.5),
        persistence, Host and Expect included; 1.0 and 1.1 are themselves.
        """
        for minor in b"23456789":
            version = b"HTTP/1.%c" % minor
            parsed = parseHead(b"GET / " + version + b"\r\nHost: a", Limits())
            self.assertEqual((parsed.version, parsed.persistent), (b"HTTP/1.1", True))
            self.assertTrue(parsed.plain, version)
            self.assertIsNone(refusal(b"GET / " + version))
            with self.assertRaises(Refusal) as raised:
                parseHead(b"GET / " + version, Limits())
            self.assertEqual(raised.exception.status, 400, "HTTP/1.1 needs a Host")
            expecting = parseHead(
                b"PUT / " + version + b"\r\nHost: a\r\nExpect: 100-continue",
                Limits(),
            )
            self.assertTrue(expecting.expectContinue, version)
        self.assertEqual(parseHead(b"GET / HTTP/1.0", Limits()).version, b"HTTP/1.0")
        self.assertFalse(parseHead(b"GET / HTTP/1.0", Limits()).persistent)
        self.assertEqual(refusal(b"GET / HTTP/1.1"), None)

    def test_otherMajorVersions(self) -> None:
        """
        A version of another major number is 505, without a body for a
        HEAD; and so as soon as the request line has come.
        """
        for version in [b"HTTP/0.9", b"HTTP/2.0", b"HTTP/3.0", b"HTTP/9.9"]:
            self.assertEqual(refusal(b"GET / " + version), (505, False), version)
            self.assertEqual(refusal(b"HEAD / " + version), (505, True), version)
        with self.assertRaises(Refusal) as raised:
            splitHead(b"GET / HTTP/2.0\r\nHost: a", Limits(), started=False)
        self.assertEqual(raised.exception.status, 505)
        self.assertEqual(refusal(b"PRI * HTTP/2.0"), (505, False))

    def test_malformedVersions(self) -> None:
        """
        Versions outside C{HTTP-name "/" DIGIT "." DIGIT} are 400.
        """
        for version in [
            b"HTTP/1.10",
            b"HTTP/01.1",
            b"HTTP/1",
            b"HTTP/2",
            b"HTTP/1.1.1",
            b"http/1.1",
            b"Http/1.1",
            b"HTTP/1.x",
            b"HTTP/\xd9\xa1.1",
            b"HTTPS/1.1",
        ]:
            self.assertEqual(refusal(b"GET / " + version), (400, False), version)

    def test_connect(self) -> None:
        """
        CONNECT, whatever its target, is 501: clocksvc tunnels nothing.
        """
        for target in [b"a:443", b"127.0.0.1:80", b"[::1]:443", b"a:", b"/now"]:
            self.assertEqual(
                refusal(b"CONNECT " + target + b" HTTP/1.1"), (501, False), target
            )

    def test_targetForms(self) -> None:
        """
        Any other method's target is origin-form, absolute-form with an
        authority, or asterisk-form; anything else, authority-form
        included, is 400.
        """
        for target in [b"/", b"/now?tz=UTC", b"//", b"*", b"http://a", b"h://a?x"]:
            for method in [b"GET", b"OPTIONS", b"FOO"]:
                self.assertIsNone(refusal(method + b" " + target + b" HTTP/1.1"))
        for target in [b"a:443", b"127.0.0.1:80", b"now", b"*now", b"mailto:a"]:
            for method in [b"GET", b"OPTIONS", b"POST"]:
                self.assertEqual(
                    refusal(method + b" " + target + b" HTTP/1.1"),
                    (400, False),
                    target,
                )


class RequestLineNetworkTests(TestCase):
    """
    Over a real connection, a higher minor version is answered as HTTP/1.1,
    and another major version and CONNECT are refused, complete, closed
    and counted.
    """

    async def test_answers(self) -> None:
        """
        C{HTTP/1.2} gets an HTTP/1.1 answer on a connection that persists;
        C{HTTP/2.0} gets a complete 505 and C{CONNECT} a 501, each closing
        the connection, and each counted in C{/metrics} as refused.
        """
        server = serve(self, Limits())
        host = b"Host: 127.0.0.1\r\n\r\n"
        higher = await deferToThread(
            exchange,
            server.address,
            b"GET /now HTTP/1.2\r\n" + host + b"GET /now HTTP/1.2\r\n" + host,
            expect=2,
        )
        self.assertEqual(higher.statuses, [200, 200])
        self.assertTrue(higher.raw.startswith(b"HTTP/1.1 200 OK\r\n"))
        for line, status in [
            (b"GET /now HTTP/2.0", 505),
            (b"CONNECT 127.0.0.1:443 HTTP/1.1", 501),
        ]:
            refused = await deferToThread(
                exchange, server.address, line + b"\r\n" + host, expect=1
            )
            [response] = refused.responses
            self.assertEqual(
                (response.status, response.header(b"connection"), refused.closed),
                (status, [b"close"], True),
            )
            self.assertEqual(response.body, b"%d %s\n" % (status, response.reason))
        metrics = metricsOf(server.site)
        assert metrics is not None
        self.assertEqual(
            [
                metrics.registry.get_sample_value(
                    "clocksvc_refused_requests_total", {"status": status}
                )
                for status in ("505", "501")
            ],
            [1.0, 1.0],
        )


class _Decoded:
    """
    What a L{ChunkedDecoder} gave: the data, the rest after the body, and
    any refusal.
    """

    def __init__(
        self, maxBodySize: int = 1024, maxHeaderSize: int = 256, maxHeaders: int = 4
    ) -> None:
        self.data = b""
        self.rest: bytes | None = None
        self.refusals: list[int] = []
        self.decoder = ChunkedDecoder(
            self._data,
            self._finish,
            self.refusals.append,
            maxBodySize,
            maxHeaderSize,
            maxHeaders,
        )

    def _data(self, data: bytes) -> None:
        self.data += data

    def _finish(self, rest: bytes) -> None:
        self.rest = rest

    def feed(self, data: bytes, pieces: int = 1) -> _Decoded:
        """
        Give the decoder C{data}, in C{pieces} about equal pieces, as the
        channel does: once the body is complete, what comes after it is the
        channel's, and is added to the rest here.
        """
        size = max(1, -(-len(data) // pieces))
        for start in range(0, len(data), size):
            if self.rest is not None:
                self.rest += data[start:]
                break
            self.decoder.dataReceived(data[start : start + size])
        return self


def chunked(body: bytes, sizes: list[int], trailers: bytes = b"") -> bytes:
    """
    @return: C{body} in chunks of C{sizes} (cycled), then the last chunk,
        C{trailers} and the empty line.
    """
    out, start, index = b"", 0, 0
    while start < len(body):
        size = sizes[index % len(sizes)]
        piece = body[start : start + size]
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
        start += size
        index += 1
    return out + b"0\r\n" + trailers + b"\r\n"


class ChunkedDecoderTests(SynchronousTestCase):
    """
    L{ChunkedDecoder} reads RFC 9112's chunked bodies, and refuses what is
    ambiguous or over the limits.
    """

    @given(
        body=st.binary(max_size=600),
        sizes=st.lists(st.integers(1, 70), min_size=1, max_size=5),
        pieces=st.integers(1, 40),
        rest=st.binary(max_size=20),
    )
    def test_roundTrip(
        self, body: bytes, sizes: list[int], pieces: int, rest: bytes
    ) -> None:
        """
        Any body, in any chunks, fed in any pieces, comes out whole, and the
        bytes after it are handed on.
        """
        decoded = _Decoded().feed(chunked(body, sizes, b"X-T: 1\r\n") + rest, pieces)
        self.assertEqual(decoded.refusals, [])
        self.assertEqual(decoded.data, body)
        self.assertEqual(decoded.rest, rest)

    def test_extensions(self) -> None:
        """
        Chunk extensions are read past; hex digits of either case and
        leading zeros are sizes.
        """
        decoded = _Decoded().feed(b"00A;x=1;y\r\n0123456789\r\n0;z\r\n\r\n")
        self.assertEqual((decoded.data, decoded.rest), (b"0123456789", b""))

    def test_bareLineEnds(self) -> None:
        """
        A bare LF or CR anywhere a line ends is 400, and nothing more is
        read.
        """
        for data in [
            b"3\nabc\r\n0\r\n\r\n",
            b"3\r\nabc\r\n0\r\nX: y\n\r\n",
            b"3\r\nabc\r\n0\r\nX: y\r\n\n",
            b"0\r\nX: y\rZ: 1\r\n\r\n",
            b"3\r\nabc\n\r0\r\n\r\n",
        ]:
            decoded = _Decoded().feed(data, 3)
            self.assertEqual(decoded.refusals, [400], data)
            self.assertIsNone(decoded.rest, data)

    def test_badSizes(self) -> None:
        """
        Sizes that are not bare hex digits, and size lines over 1 KiB, are
        400.
        """
        for data in [b"0x3\r\n", b"+3\r\n", b" 3\r\n", b"3 ;x\r\n", b"\r\n", b"g\r\n"]:
            self.assertEqual(_Decoded().feed(data).refusals, [400], data)
        self.assertEqual(_Decoded().feed(b"1;" + b"x" * 1100).refusals, [400])

    def test_overLimitAtOnce(self) -> None:
        """
        A chunk whose size would take the body over its limit is 413 as soon
        as its size line is read, however many digits the size has.
        """
        for data in [b"401\r\n", b"FFFFFFFFFFFFFFFF0\r\n", b"0" * 900 + b"401\r\n"]:
            decoded = _Decoded(maxBodySize=1024).feed(data)
            self.assertEqual(decoded.refusals, [413], data[:20])
        decoded = _Decoded(maxBodySize=1024).feed(
            b"200\r\n" + b"a" * 512 + b"\r\n201\r\n"
        )
        self.assertEqual(decoded.refusals, [413])
        decoded = _Decoded(maxBodySize=1024).feed(
            b"400\r\n" + b"a" * 1024 + b"\r\n0\r\n\r\n"
        )
        self.assertEqual((decoded.refusals, len(decoded.data)), ([], 1024))

    def test_chunkEnd(self) -> None:
        """
        Chunk data not followed by CRLF is 400.
        """
        self.assertEqual(_Decoded().feed(b"3\r\nabcd\r\n").refusals, [400])
        self.assertEqual(_Decoded().feed(b"3\r\nabc\rx").refusals, [400])

    def test_trailerLimits(self) -> None:
        """
        The trailer section is kept to the head's limits in size and count
        (431), and each line must be a field line (400).
        """
        self.assertEqual(
            _Decoded(maxHeaders=4).feed(b"0\r\n" + b"X: 1\r\n" * 5 + b"\r\n").refusals,
            [431],
        )
        self.assertEqual(
            _Decoded(maxHeaders=4).feed(b"0\r\n" + b"X: 1\r\n" * 4 + b"\r\n").refusals,
            [],
        )
        self.assertEqual(
            _Decoded(maxHeaderSize=256).feed(b"0\r\nX: " + b"y" * 300).refusals, [431]
        )
        for line in [b"X", b"X : 1", b": 1", b"GET / HTTP/1.1", b"X\x00: 1"]:
            decoded = _Decoded().feed(b"0\r\n" + line + b"\r\n\r\n")
            self.assertEqual(decoded.refusals, [400], line)

    def test_tinyChunksInOneRead(self) -> None:
        """
        A read of 87,381 one-byte chunks gives every byte once, and the end
        of the body, as the same bytes in small reads do. (What such a read
        costs, linear in its length since the decoder stopped copying the
        rest of its read at each chunk, is C{bench/grammar.py}'s.)
        """
        chunks = b"1\r\nX\r\n" * (512 * 1024 // 6)
        whole = _Decoded(maxBodySize=len(chunks))
        whole.decoder.dataReceived(chunks + b"0\r\n\r\nnext")
        pieces = _Decoded(maxBodySize=len(chunks))
        stream = chunks + b"0\r\n\r\nnext"
        for start in range(0, len(stream), 4096):
            pieces.decoder.dataReceived(stream[start : start + 4096])
        self.assertEqual(whole.data, b"X" * (512 * 1024 // 6))
        self.assertEqual((whole.rest, whole.refusals), (b"next", []))
        self.assertEqual(
            (pieces.data, pieces.rest, pieces.refusals),
            (whole.data, whole.rest, whole.refusals),
        )

    def test_afterRefusal(self) -> None:
        """
        Once refused, nothing more is read or called.
        """
        decoded = _Decoded().feed(b"3\nabc")
        decoded.feed(b"0\r\n\r\n")
        self.assertEqual(
            (decoded.refusals, decoded.data, decoded.rest), ([400], b"", None)
        )


class ContentLengthTests(SynchronousTestCase):
    """
    L{contentLength} reads C{1*DIGIT} without converting what no limit
    allows.
    """

    def test_values(self) -> None:
        """
        Digits are a length; leading zeros are allowed; anything else is
        L{None}; more digits than the limit has is just over the limit.
        """
        self.assertEqual(contentLength(b"42", 100), 42)
        self.assertEqual(contentLength(b"0" * 5000 + b"7", 100), 7)
        self.assertEqual(contentLength(b"0", 100), 0)
        self.assertEqual(contentLength(b"9" * 5000, 100), 101)
        self.assertEqual(contentLength(b"101", 100), 101)
        for value in [b"", b"-1", b"+1", b"1 2", b"0x1", b"\xd9\xa3", b"1.0"]:
            self.assertIsNone(contentLength(value, 100), value)


class ConnectionOptionsTests(SynchronousTestCase):
    """
    L{connectionOptions} reads C{Connection}'s list across field lines.
    """

    def test_lists(self) -> None:
        """
        Options are comma-separated, with optional white space, in any case,
        across lines; empty elements are ignored.
        """
        self.assertEqual(
            connectionOptions([b"keep-alive,Close", b" TE , ,upgrade\t"]),
            {b"keep-alive", b"close", b"te", b"upgrade"},
        )
        self.assertEqual(connectionOptions([]), frozenset())


#: Field lines of the bytes that matter to the plain reading: names, the
#: colon, spaces and tabs, visible ASCII, obs-text and controls.
_fieldLine = st.builds(
    lambda name, space, value, trail: name + b":" + space + value + trail,
    st.sampled_from([b"X-B", b"X-A", b"accept", b"Bad Name", b""]),
    st.sampled_from([b"", b" ", b"\t ", b"  "]),
    st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
    | st.text('ab ;=\t,"', max_size=12).map(str.encode),
    st.sampled_from([b"", b" ", b"\t", b" \t "]),
)


class PlainFieldsTests(SynchronousTestCase):
    """
    L{parseHead} reads plain field lines in one match; the rest line by line.
    """

    @given(st.lists(_fieldLine, max_size=6))
    def test_sameAsLineByLine(self, lines: list[bytes]) -> None:
        """
        Whatever the field lines, the head's fields are those that reading
        them one by one gives (or the same refusal), and the request is
        plain only if every line is.
        """
        head = b"\r\n".join([b"GET / HTTP/1.1", b"Host: a", *lines])
        try:
            careful: object = _fieldLines([b"Host: a", *lines])
        except Refusal as e:
            careful = e.status
        try:
            parsed = parseHead(head, Limits())
        except Refusal as e:
            self.assertEqual(careful, e.status)
            return
        self.assertEqual(parsed.fields, careful)
        plainLines = all(
            re.fullmatch(
                rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*"
                rb"(?:[\x21-\x7e](?:[ \t]*[\x21-\x7e])*)?[ \t]*",
                line,
            )
            for line in lines
        )
        if not plainLines:
            self.assertFalse(parsed.plain)
