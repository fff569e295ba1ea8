"""
Tests for L{clocksvc._web._quick}: which requests the fast path takes, and that
what it answers is, byte for byte, what the general path answers.
"""

from __future__ import annotations

import socket
import struct
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress
from twisted.internet.threads import deferToThread
from twisted.logger import ILogObserver, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.resource import Resource
from twisted.web.static import Data

from clocksvc._http import (
    FORWARDED,
    QUICK_BODY_SIZE,
    Limits,
    QuickHead,
    QuickResponse,
    TrustedProxies,
    httpDate,
    parseQuickHead,
)
from clocksvc._web._geoip import GeoIP
from clocksvc._web._site import buildSite, metricsOf

from ._geoip import writeDatabase
from ._helpers import BILLENNIUM, RawConnection, clockAt, useTimezone
from ._rawhttp import exchange
from ._rawsite import serve

LIMITS = Limits()
PAGE = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
FIREFOX_ACCEPT = (
    b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    b"image/webp,*/*;q=0.8"
)


def head(*lines: bytes) -> bytes:
    """
    @return: a request head of C{lines}, without its final empty line.
    """
    return b"\r\n".join(lines)


class ParseQuickHeadTests(SynchronousTestCase):
    """
    L{parseQuickHead} takes plain C{GET /} and C{HEAD /} requests and leaves
    everything else to the general path.
    """

    def test_plain(self) -> None:
        """
        A GET or HEAD of / over HTTP/1.1 with a Host is taken, with its
        Accept and User-Agent fields.
        """
        self.assertEqual(
            parseQuickHead(head(b"GET / HTTP/1.1", b"Host: a"), LIMITS),
            QuickHead(b"GET", b"/", None, None),
        )
        self.assertEqual(
            parseQuickHead(
                head(
                    b"HEAD / HTTP/1.1",
                    b"host:\t[::1]:8880 ",
                    b"Accept: " + FIREFOX_ACCEPT,
                    b"User-Agent:  Mozilla/5.0 (X11; Linux x86_64)\t",
                    b"Accept-Language: en-GB,en;q=0.5",
                    b"Sec-Fetch-Mode: navigate",
                    b"Cookie: a=b",
                ),
                LIMITS,
            ),
            QuickHead(
                b"HEAD", b"/", FIREFOX_ACCEPT, b"Mozilla/5.0 (X11; Linux x86_64)"
            ),
        )

    def test_targets(self) -> None:
        """
        The page and the time document for the default zone are taken.
        """
        for target in [b"/now", b"/now.json"]:
            for method in [b"GET", b"HEAD"]:
                self.assertEqual(
                    parseQuickHead(
                        head(method + b" " + target + b" HTTP/1.1", b"Host: a"), LIMITS
                    ),
                    QuickHead(method, target, None, None),
                )

    def test_emptyValues(self) -> None:
        """
        Empty field values are fine, except for Host, which must name a
        host; an empty Host is valid syntax, as the general path sees it.
        """
        self.assertEqual(
            parseQuickHead(head(b"GET / HTTP/1.1", b"Host:", b"Accept:"), LIMITS),
            QuickHead(b"GET", b"/", b"", None),
        )

    def test_anyTarget(self) -> None:
        """
        Any target of a plain GET over HTTP/1.1 is taken, with its query:
        which of them the fast path answers is for the resources to say.
        """
        for target in [
            b"/now?tz=UTC",
            b"/now.txt/",
            b"/NOW",
            b"/?iso",
            b"//",
            b"/api/timezone/Europe%2FBerlin?at=0",
            b"http://a/",
            b"*",
        ]:
            self.assertEqual(
                parseQuickHead(
                    head(b"GET " + target + b" HTTP/1.1", b"Host: a"), LIMITS
                ),
                QuickHead(b"GET", target, None, None),
            )

    def test_otherRequestLines(self) -> None:
        """
        Every other request line goes to the general path: other methods,
        versions, spellings and spacing.
        """
        for line in [
            b"GET / HTTP/1.0",
            b"GET / HTTP/2.0",
            b"OPTIONS / HTTP/1.1",
            b"DELETE / HTTP/1.1",
            b"get / HTTP/1.1",
            b"GET  / HTTP/1.1",
            b"GET / HTTP/1.1 ",
            b"GET /\tHTTP/1.1",
            b"",
        ]:
            # The grammar's quick heads are plain GETs, HEADs and POSTs over
            # HTTP/1.1.
            self.assertIsNone(parseQuickHead(head(line, b"Host: a"), LIMITS), line)

    def test_fieldsForTheGeneralPath(self) -> None:
        """
        Requests with a body, an expectation, a connection option or an
        upgrade go to the general path, in any letter case.
        """
        for field in [
            b"Content-Length: 0",
            b"Transfer-Encoding: chunked",
            b"Expect: 100-continue",
            b"Connection: close",
            b"connection: keep-alive",
            b"Upgrade: h2c",
        ]:
            self.assertIsNone(
                parseQuickHead(head(b"GET / HTTP/1.1", b"Host: a", field), LIMITS),
                repr(field),
            )

    def test_smallPosts(self) -> None:
        """
        A C{POST} is plain with a body of at most L{QUICK_BODY_SIZE} bytes
        framed by C{Content-Length}, or none; not with a longer one, nor a
        chunked one.
        """
        for length in [0, 44, QUICK_BODY_SIZE]:
            field = b"Content-Length: %d" % length
            parsed = parseQuickHead(
                head(b"POST /timesync HTTP/1.1", b"Host: a", field), LIMITS
            )
            self.assertEqual(parsed, QuickHead(b"POST", b"/timesync", None, None))
        for field in [
            b"Content-Length: %d" % (QUICK_BODY_SIZE + 1),
            b"Transfer-Encoding: chunked",
        ]:
            self.assertIsNone(
                parseQuickHead(
                    head(b"POST /timesync HTTP/1.1", b"Host: a", field), LIMITS
                ),
                repr(field),
            )

    def test_hosts(self) -> None:
        """
        Only one Host, and a valid one, is taken: the general path refuses
        the others with 400.
        """
        for fields in [
            [],
            [b"Host: a", b"Host: a"],
            [b"Host: a b"],
            [b"Host: a/b"],
            [b"Host: a:80:80"],
            [b"Host: [::1"],
            [b"Host: a@b"],
        ]:
            self.assertIsNone(
                parseQuickHead(head(b"GET / HTTP/1.1", *fields), LIMITS), repr(fields)
            )

    def test_malformedFields(self) -> None:
        """
        Anything outside the strict field grammar goes to the general path:
        folded lines, bytes that are not visible ASCII, bad names, a second
        Accept (whose meaning depends on joining the two).
        """
        for field in [
            b" folded",
            b"\tfolded",
            b"X-A: caf\xc3\xa9",
            b"X-A: a\x00b",
            b"X-A: a\rb",
            b"X-A: a\nb",
            b"X-A: a\x7fb",
            b"X A: b",
            b"X-A : b",
            b": b",
            b"X-(A): b",
            b"no colon",
            b"",
            b"Accept: text/html\r\nAccept: */*",
        ]:
            self.assertIsNone(
                parseQuickHead(head(b"GET / HTTP/1.1", b"Host: a", field), LIMITS),
                repr(field),
            )

    def test_limits(self) -> None:
        """
        Heads beyond the limits go to the general path, which refuses them
        with 431.
        """
        self.assertIsNone(
            parseQuickHead(
                head(b"GET / HTTP/1.1", b"Host: a", b"A: " + b"x" * 30),
                Limits(maxRequestLine=32),
            )
        )
        limits = Limits(maxHeaders=3, maxHeaderSize=100)
        self.assertIsNotNone(
            parseQuickHead(
                head(b"GET / HTTP/1.1", b"Host: a", b"A: 1", b"B: 2"), limits
            )
        )
        self.assertIsNone(
            parseQuickHead(
                head(b"GET / HTTP/1.1", b"Host: a", b"A: 1", b"B: 2", b"C: 3"), limits
            )
        )
        self.assertIsNone(
            parseQuickHead(
                head(b"GET / HTTP/1.1", b"Host: a", b"A: " + b"x" * 90), limits
            )
        )


class HTTPDateTests(SynchronousTestCase):
    """
    L{httpDate} gives the C{Date} header of an instant.
    """

    def test_date(self) -> None:
        """
        The instant's second, in RFC 9110's IMF-fixdate; a new second gives a
        new date.
        """
        self.assertEqual(httpDate(BILLENNIUM + 0.999), b"Sun, 09 Sep 2001 01:46:40 GMT")
        self.assertEqual(httpDate(BILLENNIUM + 1), b"Sun, 09 Sep 2001 01:46:41 GMT")


TIMESYNC = b'{"jsonrpc":"2.0","id":1,"method":"timesync"}'
#: Requests the fast path answers.
QUICK_REQUESTS = [
    PAGE,
    b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nAccept: " + FIREFOX_ACCEPT + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nUser-Agent: curl/8.5\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nAccept: text/plain;q=0.5, text/html\r\n\r\n",
    b"GET /now HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /now HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n",
    b"GET /now HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
    b"GET /now.json HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n",
    b"HEAD /now.json HTTP/1.1\r\nHost: a\r\n\r\n",
    # The document in either form, for any zone; and time.akamai.com's
    # answers.
    b"GET / HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\nAccept: text/plain;q=0.9, */*;q=0.1\r\n\r\n",
    b"GET /now HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n",
    b"GET /now.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /now.txt?tz=Asia/Tokyo HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz=Europe/Berlin HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz=europe/berlin HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n",
    b"GET /now?tz=America/Argentina/Buenos_Aires HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /now.json?tz=Etc/GMT-14 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /?ms HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /?iso HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n",
    b"GET /?iso&ms HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /?ms&iso HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now HTTP/1.1\r\nHost: a\r\nAccept: image/png\r\n\r\n",
    b"GET /api/timezone/Europe/Berlin HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /api/timezone/europe/berlin HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/America/Indiana/Knox.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/UTC HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n",
    # Samples of an NTP-style exchange, in every form; and the time over
    # HTTPS.
    b"GET /now?t1=1000000000000.5 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now.json?tz=UTC&t1=1000000000000 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1=1700000000000&tz=Asia/Tokyo HTTP/1.1\r\nHost: a\r\n"
    b"Accept: text/plain\r\n\r\n",
    b"HEAD /now.txt?t1=0 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now.txt?t1=253402300799999.999999 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /.well-known/time HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /.well-known/time HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
    # A higher minor version is read as HTTP/1.1 (RFC 9110 section 2.5).
    b"GET /now HTTP/1.2\r\nHost: a\r\n\r\n",
    # Calls of the npm timesync library.
    b"POST /timesync HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s"
    % (len(TIMESYNC), TIMESYNC),
    *(
        b"POST /timesync HTTP/1.1\r\nHost: a\r\nContent-Type: application/json"
        b"\r\nContent-Length: %d\r\n\r\n%s" % (len(call), call)
        for call in [
            b'{"jsonrpc":"2.0","id":"\\u00e9x","method":"timesync"}',
            b'{"jsonrpc":"2.0","method":"timesync"}',
            b'{"method":"timesync","id":[1.5,null],"jsonrpc":"2.0","x":{}}',
        ]
    ),
]
#: Requests the fast path leaves to the resource tree: heads that are not
#: plain (another method, a long or chunked body), targets that are not a
#: path, and answers only the request can give (the live page, which names
#: the URL the client used); each is a whole request, to pipeline.
DECLINED = [
    b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET *now HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"OPTIONS /now HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /timesync HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s"
    % (len(TIMESYNC) + 2000, TIMESYNC + b" " * 2000),
    b"POST /timesync HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"%x\r\n%s\r\n0\r\n\r\n" % (len(TIMESYNC), TIMESYNC),
    b"GET /live HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /live HTTP/1.1\r\nHost: a\r\n\r\n",
    # The IE blank line after a request, which Twisted tolerates once.
    b"\r\n",
]
#: Requests for the general path and the fast path alike, in pieces to
#: pipeline: each is a whole request.
REQUESTS = [
    *QUICK_REQUESTS,
    # Errors, escapes, repeated or other parameters: the fast path answers
    # them too, by the same resource's answer.
    b"GET /now?tz=Nowhere/Atlantis HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now.txt?tz=../etc HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz= HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now? HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz=Etc/GMT%2B5 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz=Etc/GMT+5 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz=UTC&tz=Asia/Tokyo HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1=abc HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1=1e12 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1=1.1234567 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1=253402300800000 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1=1&t1=2 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1= HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz=UTC&t1=1&x=2 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?tz=UTC&tz=UTC HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now?t1=1&tz=Nowhere/Atlantis HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /?t1=1000000000000 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/UTC?t1=1000000000000 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /.well-known/time?x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /.well-known/time/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /.well-known/timex HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /.well-known/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /.well-known HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /?tz=UTC HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n",
    # Documents for a given instant.
    b"GET /now?at=2024-03-31T01:00:00Z HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now.txt?tz=Europe/Berlin&at=1711846800 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now.json?at=1711846800.5&tz=UTC HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Europe/Berlin?at=1711846800 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Europe/Berlin.txt?at=0 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Europe/Berlin/transitions HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/convert?from=UTC&to=Asia/Tokyo&time=2024-01-01T00:00:00 HTTP/1.1\r\n"
    b"Host: a\r\n\r\n",
    b"GET /?iso=1 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /?ms&x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Europe HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Europe/Atlantis.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Europe%2FBerlin HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Europe/Berlin/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Europe/Berlin?x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/Etc/GMT+5.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/timezone.txt/UTC HTTP/1.1\r\nHost: a\r\n\r\n",
    # /api/ip for a client (127.0.0.1) that has no location, and addresses.
    b"GET /api/ip HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /api/ip.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/ip/81.2.69.142 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/ip/nowhere.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    # Paths below the documents, and other routes' paths.
    b"GET /now/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /now.txt/UTC HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET //now HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n",
    # POSTs to other routes, calls the resource refuses.
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s"
    % (len(TIMESYNC), TIMESYNC),
    b"POST /now HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /timesync HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /timesync?x HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s"
    % (len(TIMESYNC), TIMESYNC),
    b"POST /timesync HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n{not json}",
    b"POST /timesync HTTP/1.1\r\nHost: a\r\nContent-Length: 28\r\n\r\n"
    b'{"jsonrpc":"2.0","id":1e999}',
    b"POST /.well-known/time HTTP/1.1\r\nHost: a\r\n\r\n",
    # Other routes' errors, and the pages below them.
    b"GET /stream?tz=Nowhere/Atlantis HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /stream HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /live/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /live HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /live.js HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /favicon.ico HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /openapi.json HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /openapi.json/x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /api/nothing HTTP/1.1\r\nHost: a\r\n\r\n",
    *DECLINED,
]
#: Requests after which the connection is closed.
LAST_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: \x80\r\n\r\n",
    b"GET / HTTP/1.1\nHost: a\n\n",
    b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
]


class Server:
    """
    A site in memory on a fixed clock, with or without its fast path, and a
    record of what the fast path answered.
    """

    def __init__(
        self,
        fast: bool,
        accessLog: bool = False,
        timezone: str = "UTC",
        trustedProxies: TrustedProxies | None = None,
        geoip: GeoIP | None = None,
    ) -> None:
        self.clock = clockAt(BILLENNIUM + 0.25)
        self.site = buildSite(
            self.clock,
            timezone,
            accessLog=accessLog,
            trustedProxies=trustedProxies,
            geoip=geoip,
        )
        self.quick: list[QuickHead] = []
        answer = self.site.quickAnswer
        assert answer is not None
        if fast:

            def recording(head: QuickHead, peer: IAddress) -> QuickResponse | None:
                response = answer(head, peer)
                if response is not None:
                    self.quick.append(head)
                return response

            self.site.quickAnswer = recording
        else:
            self.site.quickAnswer = None

    def exchange(
        self, chunks: list[bytes], client: IAddress | None = None
    ) -> tuple[bytes, list[float]]:
        """
        Send C{chunks} in turn on one connection, from C{client}.

        @return: every byte sent back, and the times of what is left
            scheduled.
        """
        connection = RawConnection(self.site, client)
        for chunk in chunks:
            connection.send(chunk)
        return (
            connection.received(),
            sorted(call.getTime() for call in self.clock.getDelayedCalls()),
        )

    def counts(self) -> list[float | None]:
        """
        @return: the requests counted at each endpoint the fast path
            answers, with each status.
        """
        metrics = metricsOf(self.site)
        assert metrics is not None
        return [
            metrics.registry.get_sample_value(
                "clocksvc_requests_total", {"endpoint": endpoint, "status": status}
            )
            for endpoint in (
                "/",
                "/now",
                "/now.json",
                "/now.txt",
                "/api/timezone",
                "/.well-known/time",
                "/timesync",
                "/api/ip",
            )
            for status in ("200", "204", "400", "404", "405", "406", "413", "501")
        ]


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    """
    @return: C{data} cut at each of C{cuts} (positions, in any order).
    """
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[points[i] : points[i + 1]] for i in range(len(points) - 1)]


class EquivalenceTests(SynchronousTestCase):
    """
    The fast path answers as the general path does: the same bytes, the
    same timers left, the same counts and log events.
    """

    def setUp(self) -> None:
        useTimezone(self, "UTC")

    def assertSame(
        self,
        chunks: list[bytes],
        client: IAddress | None = None,
        zone: str = "UTC",
        trustedProxies: TrustedProxies | None = None,
        geoip: GeoIP | None = None,
    ) -> Server:
        """
        Send C{chunks} to a server with its fast path and to one without,
        and check that each sends back the same bytes, leaves the same
        timers and counts the same.

        @return: the server with the fast path.
        """
        fast, general = (
            Server(True, timezone=zone, trustedProxies=trustedProxies, geoip=geoip),
            Server(False, timezone=zone, trustedProxies=trustedProxies, geoip=geoip),
        )
        self.assertEqual(
            fast.exchange(chunks, client), general.exchange(chunks, client)
        )
        self.assertEqual(fast.counts(), general.counts())
        return fast

    def test_page(self) -> None:
        """
        The fast path answers GET / with the lesson's page, and the general
        path would have sent the same bytes.
        """
        fast = self.assertSame([PAGE])
        self.assertEqual(fast.quick, [QuickHead(b"GET", b"/", None, None)])
        response, _ = fast.exchange([PAGE])
        self.assertTrue(
            response.startswith(
                b"HTTP/1.1 200 OK\r\nServer: clocksvc\r\n"
                # BILLENNIUM, on the fixed clock, in the Date header too.
                b"Date: Sun, 09 Sep 2001 01:46:40 GMT\r\n"
            )
        )
        self.assertTrue(
            response.endswith(
                b"\r\n\r\n<html><body>Sun Sep  9 01:46:40 2001</body></html>"
            )
        )

    def test_pageInZone(self) -> None:
        """
        The page is in the server's zone, from both paths alike: Tokyo's
        time, though the local zone is UTC.
        """
        fast = self.assertSame([PAGE], zone="asia/tokyo")
        self.assertEqual(len(fast.quick), 1)
        response, _ = fast.exchange([PAGE])
        self.assertTrue(
            response.endswith(b"<html><body>Sun Sep  9 10:46:40 2001</body></html>")
        )

    def test_eachRequest(self) -> None:
        """
        Each request alone, and as the last one on its connection, gets the
        same answer from both; the fast path takes every plain request to a
        path but those only the request can answer (L{DECLINED}).
        """
        for request in REQUESTS + LAST_REQUESTS:
            fast = self.assertSame([request])
            declined = request in DECLINED or request in LAST_REQUESTS
            self.assertEqual(len(fast.quick), not declined, request)

    def test_clients(self) -> None:
        """
        The document names the client as the general path does, whatever its
        address.
        """
        for client in [
            IPv6Address("TCP", "::ffff:192.0.2.1", 1),
            IPv6Address("TCP", "2001:db8::1", 1),
            UNIXAddress(None),
        ]:
            fast = self.assertSame(QUICK_REQUESTS[5:], client)
            self.assertEqual(len(fast.quick), len(QUICK_REQUESTS) - 5)

    def test_forwarded(self) -> None:
        """
        Behind a trusted proxy, the fast path names the client its fields
        name, as the general path does; from a peer that is not trusted,
        neither believes them.
        """
        trusted = TrustedProxies.parse(["127.0.0.1", "unix"])
        forwarded = [
            b"GET /now HTTP/1.1\r\nHost: a\r\n"
            b"X-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n\r\n",
            b"GET /now.json HTTP/1.1\r\nHost: a\r\n"
            b"X-Forwarded-For: [2001:db8::1]:4711\r\n\r\n",
            b"GET /now HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: bogus\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n",
        ]
        stranger = IPv6Address("TCP", "2001:db8::9", 1)
        for client in [None, UNIXAddress(None), stranger]:
            fast = self.assertSame(forwarded, client, trustedProxies=trusted)
            self.assertEqual(len(fast.quick), 4)
        body = fast.exchange(forwarded[:1], stranger)[0]
        self.assertIn(b'"client_ip":"2001:db8::9"', body)
        body = Server(True, trustedProxies=trusted).exchange(forwarded[:2])[0]
        self.assertIn(b'"client_ip":"203.0.113.9"', body)
        self.assertIn(b'"client_ip":"2001:db8::1"', body)

    def test_invalidForwardedOnce(self) -> None:
        """
        A trusted proxy's field that does not parse is counted once, whichever
        path answers: the quick one, or the resource tree after the quick
        one stepped aside (as for the live page).
        """
        trusted = TrustedProxies.parse(["127.0.0.1"])
        requests = [
            b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: bogus\r\n\r\n"
            for target in [b"/now", b"/live", b"/nowhere"]
        ]
        fast = self.assertSame(requests, trustedProxies=trusted)
        self.assertEqual(len(fast.quick), 2)
        metrics = metricsOf(fast.site)
        assert metrics is not None
        self.assertEqual(
            metrics.registry.get_sample_value("clocksvc_forwarded_invalid_total"), 3
        )

    def test_ip(self) -> None:
        """
        C{/api/ip} and C{/api/ip.txt}, plain, are answered quickly, for a
        client whose address has a zone, IPv4 or IPv6, direct or through a
        trusted proxy, and for one without; and so are an address's
        document and the errors; the same bytes from either server.
        """
        geoip = GeoIP(writeDatabase(self.mktemp()))
        quick = [
            b"GET /api/ip HTTP/1.1\r\nHost: a\r\n\r\n",
            b"HEAD /api/ip HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n",
            b"GET /api/ip.txt HTTP/1.1\r\nHost: a\r\n\r\n",
            b"HEAD /api/ip.txt HTTP/1.1\r\nHost: a\r\n\r\n",
        ]
        others = [
            b"GET /api/ip/81.2.69.142 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/ip/2001:4860::1.txt HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/ip/bogus HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/ip/ HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/ip?x HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/ip.txt/x HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /api/ipv6 HTTP/1.1\r\nHost: a\r\n\r\n",
        ]
        for client, zone in [
            (IPv4Address("TCP", "81.2.69.142", 1), b"Europe/London"),
            (IPv6Address("TCP", "::ffff:175.16.199.1", 1), b"Asia/Harbin"),
            (IPv6Address("TCP", "2001:4860::1", 1), b"America/Sao_Paulo"),
        ]:
            fast = self.assertSame(quick + others, client, geoip=geoip)
            self.assertEqual(len(fast.quick), len(quick + others))
            body = fast.exchange(quick[:1], client)[0]
            self.assertIn(b'"timezone":"' + zone + b'"', body)
        # Without a location: private, loopback, no database.
        nowhere: list[IAddress | None] = [
            IPv4Address("TCP", "10.0.0.1", 1),
            None,
            UNIXAddress(None),
        ]
        for elsewhere in nowhere:
            fast = self.assertSame(quick, elsewhere, geoip=geoip)
            self.assertEqual(len(fast.quick), len(quick))
            self.assertIn(
                b"HTTP/1.1 404 Not Found\r\n", fast.exchange(quick[:1], elsewhere)[0]
            )
        fast = self.assertSame(quick, IPv4Address("TCP", "81.2.69.142", 1))
        self.assertEqual(len(fast.quick), len(quick))
        self.assertIn(
            b"HTTP/1.1 501 Not Implemented\r\n",
            fast.exchange(quick[:1], IPv4Address("TCP", "81.2.69.142", 1))[0],
        )
        # Through a trusted proxy.
        trusted = TrustedProxies.parse(["127.0.0.1"])
        forwarded = [
            b"GET /api/ip HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 81.2.69.142\r\n\r\n",
            b"GET /api/ip.txt HTTP/1.1\r\nHost: a\r\n"
            b"X-Forwarded-For: 2001:4860::1\r\n\r\n",
            b"GET /api/ip HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.1.1.1\r\n\r\n",
        ]
        fast = self.assertSame(forwarded, geoip=geoip, trustedProxies=trusted)
        self.assertEqual(len(fast.quick), 3)
        body = fast.exchange(forwarded[:2])[0]
        self.assertIn(b'"client_ip":"81.2.69.142"', body)
        self.assertIn(b"\nclient_ip: 2001:4860::1\n", body)

    def test_timeAPI(self) -> None:
        """
        timeapi.io's endpoints and C{/api/coordinates} are answered quickly,
        in any letter case, C{HEAD} too, and the conversion with its JSON
        body: 200, the same bytes from either server; and so are their
        errors, without a GeoIP database as with one.
        """
        geoip = GeoIP(writeDatabase(self.mktemp()))
        conversion = (
            b'{"fromTimeZone":"Europe/Berlin","dateTime":"2024-03-31 12:00:00",'
            b'"toTimeZone":"Asia/Tokyo"}'
        )
        found = [
            b"GET /api/Time/current/zone?timeZone=Europe/Berlin",
            b"HEAD /api/time/current/zone?timeZone=utc",
            b"GET /api/TIME/CURRENT/COORDINATE?latitude=52.5&longitude=13.4",
            b"GET /api/Time/current/ip?ipAddress=81.2.69.142",
            b"GET /api/timezone/AvailableTimeZones",
            b"GET /api/timezone/zone?timeZone=Asia/Tokyo",
            b"GET /api/TimeZone/coordinate?latitude=0&longitude=75",
            b"GET /api/TimeZone/ip?ipAddress=2001:4860::1",
            b"GET /api/coordinates?lat=52.52&lon=13.405",
            b"POST /api/conversion/converttimezone",
        ]
        errors = [
            b"GET /api/Time/current/zone?timeZone=Nowhere/Atlantis",
            b"GET /api/Time/current/coordinate?latitude=91&longitude=0",
            b"GET /api/coordinates?lat=x",
            b"POST /api/Conversion/ConvertTimeZone",
            b"GET /api/Conversion/ConvertTimeZone",
            b"GET /api/TimeZone/Europe/Berlin",
        ]
        bodies = {found[-1]: conversion, errors[3]: b"{not json}"}
        requests = [
            line
            + b" HTTP/1.1\r\nHost: a\r\n"
            + (b"Content-Length: %d\r\n" % len(bodies[line]) if line in bodies else b"")
            + b"\r\n"
            + bodies.get(line, b"")
            for line in found + errors
        ]
        for database in (geoip, None):
            fast = self.assertSame(requests, geoip=database)
            self.assertEqual(len(fast.quick), len(requests))
        for request in requests[: len(found)]:
            response = Server(True, geoip=geoip).exchange([request])[0]
            self.assertTrue(response.startswith(b"HTTP/1.1 200 OK\r\n"), response)

    def test_anotherIPResource(self) -> None:
        """
        A resource mounted in place of C{/api/ip}: the fast path leaves
        C{/api/ip} to it.
        """
        fast = Server(fast=True, geoip=GeoIP(writeDatabase(self.mktemp())))
        root = fast.site.resource
        assert isinstance(root, Resource)
        root.getStaticEntity(b"api").putChild(b"ip", Data(b"mine", "text/plain"))
        response, _ = fast.exchange(
            [b"GET /api/ip HTTP/1.1\r\nHost: a\r\n\r\n"],
            IPv4Address("TCP", "81.2.69.142", 1),
        )
        self.assertEqual(fast.quick, [])
        self.assertTrue(response.endswith(b"\r\n\r\nmine"), response)

    def test_defaultZone(self) -> None:
        """
        The document is for the server's default zone.
        """
        fast = self.assertSame(QUICK_REQUESTS[5:], zone="america/sao_paulo")
        self.assertIn(
            b'"timezone":"America/Sao_Paulo"', fast.exchange([QUICK_REQUESTS[5]])[0]
        )

    def test_nextSecond(self) -> None:
        """
        The fast path's response is for the second it is sent in.
        """
        fast, general = Server(fast=True), Server(fast=False)
        for server in (fast, general):
            server.exchange([PAGE])
            server.clock.advance(1)
        self.assertEqual(fast.exchange([PAGE]), general.exchange([PAGE]))
        self.assertIn(b"01:46:41 2001", fast.exchange([PAGE])[0])

    @given(
        st.lists(st.sampled_from(REQUESTS), max_size=8),
        st.sampled_from([*LAST_REQUESTS, b""]),
        st.lists(st.integers(min_value=0), max_size=6),
    )
    def test_pipelines(
        self, requests: list[bytes], last: bytes, cuts: list[int]
    ) -> None:
        """
        Any run of requests on one connection, pipelined and cut into any
        pieces, gets the same bytes back from both.
        """
        self.assertSame(pieces(b"".join(requests) + last, cuts))

    def test_accessLog(self) -> None:
        """
        The access log has the same event for a request either path answers.
        """
        events: list[dict[str, Any]] = []

        def observe(event: dict[str, Any]) -> None:
            if event.get("log_namespace") == "clocksvc.access":
                events.append(event)

        observer = cast(ILogObserver, observe)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        request = b"HEAD / HTTP/1.1\r\nHost: a\r\nUser-Agent: probe/1\r\n\r\n"
        forwarded = (
            b"GET /now HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n"
            b"Forwarded: for=203.0.113.9\r\n\r\n"
        )
        # A proxy that writes Forwarded (--forwarded-header forwarded): its
        # X-Forwarded-Proto, which it does not write, is not believed.
        trusted = TrustedProxies.parse(["127.0.0.1"], FORWARDED)
        fast, general = (
            Server(True, accessLog=True, trustedProxies=trusted),
            Server(False, accessLog=True, trustedProxies=trusted),
        )
        fast.exchange([request, PAGE, forwarded])
        self.assertEqual(len(fast.quick), 3)
        fastEvents, events[:] = events[:], []
        general.exchange([request, PAGE, forwarded])
        keys = ["when", "client", "method", "path", "status", "bytes"]
        keys += ["duration_ms", "user_agent", "scheme"]
        self.assertEqual(
            [{key: event[key] for key in keys} for event in fastEvents],
            [{key: event[key] for key in keys} for event in events],
        )
        self.assertEqual(
            [
                (event["method"], event["bytes"], event["user_agent"])
                for event in events
            ],
            [("HEAD", 0, "probe/1"), ("GET", 50, ""), ("GET", 359, "")],
        )
        # Forwarded, not X-Forwarded-Proto, says the last one's scheme.
        self.assertEqual(
            [(event["client"], event["scheme"]) for event in events],
            [("127.0.0.1", "http")] * 2 + [("203.0.113.9", "http")],
        )

    def test_anotherPage(self) -> None:
        """
        A resource mounted at / in place of clocksvc's answers there: the
        fast path steps aside.
        """
        fast = Server(fast=True)
        root = fast.site.resource
        assert isinstance(root, Resource)
        root.putChild(b"", Data(b"mine", "text/plain"))
        response, _ = fast.exchange([PAGE])
        self.assertEqual(fast.quick, [])
        self.assertTrue(response.endswith(b"\r\n\r\nmine"), response)

    def test_anotherZoneTree(self) -> None:
        """
        Resources mounted in place of C{/api} or of C{/api/timezone}: the fast
        path leaves the zones' documents to them.
        """
        request = b"GET /api/timezone/UTC HTTP/1.1\r\nHost: a\r\n\r\n"
        for parent in [b"", b"api"]:
            fast = Server(fast=True)
            root = fast.site.resource
            assert isinstance(root, Resource)
            mine = Resource()
            mine.putChild(b"UTC", Data(b"mine", "text/plain"))
            tree = Resource()
            tree.putChild(b"timezone", mine)
            if parent:
                root.getStaticEntity(parent).putChild(b"timezone", mine)
            else:
                root.putChild(b"api", tree)
            response, _ = fast.exchange([request])
            self.assertEqual(fast.quick, [])
            self.assertTrue(response.endswith(b"\r\n\r\nmine"), response)


class NetworkTests(TestCase):
    """
    The fast path over a real socket, where it sends at once.
    """

    def setUp(self) -> None:
        server = serve(self, LIMITS)
        self.site, self.address = server.site, server.address

    async def test_pipelined(self) -> None:
        """
        2,000 requests pipelined at once, more than the socket's buffers hold
        in answers, all get the page, in order, once each.
        """
        result = await deferToThread(
            exchange, self.address, PAGE * 2000, expect=2000, timeout=30.0
        )
        self.assertEqual(result.statuses, [200] * 2000)
        self.assertEqual(
            {response.body[:12] for response in result.responses}, {b"<html><body>"}
        )
        self.assertEqual(result.rest, b"")
        metrics = metricsOf(self.site)
        assert metrics is not None
        count = metrics.registry.get_sample_value(
            "clocksvc_requests_total", {"endpoint": "/", "status": "200"}
        )
        self.assertEqual(count, 2000)

    async def test_clientGone(self) -> None:
        """
        A client that sends and resets at once costs the server nothing: the
        next client is served.
        """

        def sendAndReset() -> None:
            with socket.create_connection(self.address, timeout=5) as sock:
                # Linger on, for no time: close sends a reset.
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                sock.sendall(PAGE * 50)

        for _ in range(20):
            await deferToThread(sendAndReset)
        result = await deferToThread(exchange, self.address, PAGE, expect=1)
        self.assertEqual(result.statuses, [200])
