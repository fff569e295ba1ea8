"""
The raw request corpus of L{tests.test_hardening}: malformed and smuggling
requests from RFC 9112/9110, request-smuggling research and a security
review, each with the statuses it must get. Data only: the tests that send
them are in L{tests.test_hardening}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

__all__ = [
    "CHUNKED",
    "CHUNKS",
    "CLOSE",
    "CONTENT_LENGTHS",
    "CONTINUED_PART",
    "CORPUS",
    "DEEP_BOUNDARY",
    "FORM",
    "GET",
    "HEADERS",
    "HOST",
    "HOSTS",
    "LINE_ENDS",
    "PIPELINES",
    "POST",
    "QUADRATIC_PART",
    "REQUEST_LINES",
    "REVIEW",
    "SMUGGLED",
    "SMUGGLED_CHUNKED",
    "TARGETS",
    "TIMEOUTS",
    "TIMESYNC",
    "TRAILER_FIELD",
    "TRANSFER_ENCODINGS",
    "Case",
    "Statuses",
    "anyOf",
    "withLength",
]


# Union, not |: the alias is evaluated at run time, and PyPy's Python is 3.9.
Statuses = Union[int, frozenset[int]]


def anyOf(*statuses: int) -> frozenset[int]:
    """
    @return: a set of statuses, any of which is right.
    """
    return frozenset(statuses)


@dataclass(frozen=True)
class Case:
    """
    One raw request (or several, pipelined) and what it must get.

    @ivar name: what the request is, for failure reports.
    @ivar data: the bytes to send.
    @ivar statuses: the status of each response expected, in order: an
        exact status or a set of acceptable ones; no response at all is C{()}.
    @ivar canary: how many requests to C{/smuggled} the server should take.
    @ivar heads: how many of the requests are C{HEAD}s, which come first.
    @ivar answered: whether the request reaches the application, whose
        refusals (a JSON C{400} from an endpoint) keep the connection, rather
        than being refused on the connection.
    """

    name: str
    data: bytes
    statuses: tuple[Statuses, ...]
    canary: int = 0
    heads: int = 0
    answered: bool = False


HOST = b"Host: 127.0.0.1\r\n"
GET = b"GET /now HTTP/1.1\r\n" + HOST
POST = b"POST /now HTTP/1.1\r\n" + HOST
CLOSE = b"Connection: close\r\n"
CHUNKED = b"Transfer-Encoding: chunked\r\n"
#: A request that, taken as one, would hit the canary.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\n" + HOST + b"\r\n"
#: The smuggled request as a chunked body.
SMUGGLED_CHUNKED = b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED)


def withLength(head: bytes, body: bytes) -> bytes:
    """
    @return: the request head C{head} (without its empty line) with a
        C{Content-Length} for C{body}, and C{body}.
    """
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


REQUEST_LINES = [
    Case("HTTP/1.0 without Host", b"GET /now HTTP/1.0\r\n\r\n", (200,)),
    Case("HTTP/1.1 without Host", b"GET /now HTTP/1.1\r\n\r\n", (400,)),
    Case("HTTP/0.9 simple request", b"GET /now\r\n", (400,)),
    Case("HTTP/0.9 with headers", b"GET /now\r\n" + HOST + b"\r\n", (400,)),
    # RFC 9110 section 2.5: a higher minor version is served as HTTP/1.1,
    # by HTTP/1.1's rules: persistent, and with a Host.
    Case("HTTP/1.2", b"GET /now HTTP/1.2\r\n" + HOST + CLOSE + b"\r\n", (200,)),
    Case(
        "HTTP/1.9 persists",
        b"GET /now HTTP/1.9\r\n" + HOST + b"\r\n" + SMUGGLED,
        (200, 200),
        canary=1,
    ),
    Case("HTTP/1.2 without Host", b"GET /now HTTP/1.2\r\n\r\n", (400,)),
    # RFC 9110 section 15.6.6: another major version is 505.
    Case("HTTP/2.0", b"GET /now HTTP/2.0\r\n" + HOST + b"\r\n", (505,)),
    Case("HTTP/3.0", b"GET /now HTTP/3.0\r\n" + HOST + b"\r\n", (505,)),
    Case("HTTP/0.9 named", b"GET /now HTTP/0.9\r\n" + HOST + b"\r\n", (505,)),
    Case(
        "HTTP/2.0, a request behind it",
        b"GET /now HTTP/2.0\r\n" + HOST + b"\r\n" + SMUGGLED,
        (505,),
    ),
    Case(
        "HTTP/2.0, head not all come",
        b"GET /now HTTP/2.0\r\n" + HOST,
        (505,),
    ),
    Case("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (505,)),
    # RFC 9112 section 2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT,
    # the name in capitals.
    Case("HTTP/3", b"GET /now HTTP/3\r\n" + HOST + b"\r\n", (400,)),
    Case("two-digit minor", b"GET /now HTTP/1.10\r\n" + HOST + b"\r\n", (400,)),
    Case("two-digit major", b"GET /now HTTP/01.1\r\n" + HOST + b"\r\n", (400,)),
    Case("lowercase version", b"GET /now http/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("version with spaces", b"GET /now HTTP/ 1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("two spaces", b"GET  /now HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("tab separator", b"GET\t/now HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("trailing space", b"GET /now HTTP/1.1 \r\n" + HOST + b"\r\n", (400,)),
    Case("leading space", b" GET /now HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("extra word", b"GET /now HTTP/1.1 x\r\n" + HOST + b"\r\n", (400,)),
    Case("no target", b"GET HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("empty method", b" /now HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("method not a token", b"G(T /now HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    # RFC 9112 section 2.2: one empty line before a request is ignored.
    Case("one empty line first", b"\r\n" + GET + CLOSE + b"\r\n", (200,)),
    Case("two empty lines first", b"\r\n\r\n" + GET + b"\r\n", (400,)),
    Case("NUL in target", b"GET /now\x00 HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("space in target", b"GET /n ow HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("control in target", b"GET /now\x1b HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    # RFC 9112 section 3.2: a target is visible ASCII (URI characters).
    Case("DEL in target", b"GET /now\x7f HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("byte 0x80 in target", b"GET /now\x80 HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("byte 0xff in target", b"GET /now\xff HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    # An unknown method is 405 from the application, as any it does not
    # support (clocksvc._web._resource); the request itself is well formed.
    Case("unknown method", b"FOO /now HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n", (405,)),
    Case(
        "request line at the limit",
        b"GET /" + b"a" * (8192 - 14) + b" HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n",
        (404,),
    ),
    Case(
        "request line over the limit",
        b"GET /" + b"a" * (8192 - 13) + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        (414,),
    ),
    Case("endless request line", b"GET /" + b"a" * 20000, (414,)),
]

TARGETS = [
    Case(
        "absolute-form",
        b"GET http://x/now HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n",
        (200,),
    ),
    Case(
        "absolute-form https with query",
        b"GET https://example.com:8443/now?tz=UTC HTTP/1.1\r\n"
        + HOST
        + CLOSE
        + b"\r\n",
        (200,),
    ),
    # RFC 9112 section 3.2.2: the target's authority wins over Host.
    Case(
        "absolute-form, other Host",
        b"GET http://a.example/now HTTP/1.1\r\nHost: b.example\r\n" + CLOSE + b"\r\n",
        (200,),
    ),
    Case(
        "absolute-form to /smuggled",
        b"GET http://x/smuggled HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n",
        (200,),
        canary=1,
    ),
    Case(
        "asterisk-form OPTIONS",
        b"OPTIONS * HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n",
        (200,),
    ),
    Case("asterisk-form GET", b"GET * HTTP/1.1\r\n" + HOST + b"\r\n", (405,)),
    # RFC 9112 section 3.2.3: authority-form is CONNECT's, and clocksvc
    # tunnels nothing: 501, and the connection closes before a tunnel's
    # bytes are taken for a request.
    Case("CONNECT", b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", (501,)),
    Case(
        "CONNECT, tunnel bytes behind it",
        b"CONNECT 127.0.0.1:80 HTTP/1.1\r\n" + HOST + b"\r\n" + SMUGGLED,
        (501,),
    ),
    Case(
        "CONNECT an IPv6 literal",
        b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
        (501,),
    ),
    Case("CONNECT a path", b"CONNECT /now HTTP/1.1\r\n" + HOST + b"\r\n", (501,)),
    # RFC 9112 section 3.2: any other method's target is a path, an
    # absolute URI with an authority, or *.
    Case("authority-form GET", b"GET a:443 HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case(
        "authority-form OPTIONS",
        b"OPTIONS 127.0.0.1:80 HTTP/1.1\r\n" + HOST + b"\r\n",
        (400,),
    ),
    Case("relative target", b"GET now HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case("asterisk and more", b"GET *now HTTP/1.1\r\n" + HOST + b"\r\n", (400,)),
    Case(
        "HEAD",
        b"HEAD /now HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n",
        (200,),
        heads=1,
    ),
]

LINE_ENDS = [
    Case("bare LF throughout", b"GET /now HTTP/1.1\nHost: 127.0.0.1\n\n", (400,)),
    Case("bare LF after a header", GET + b"X-A: b\n\r\n", (400,)),
    Case("bare LF ends the head", GET + b"\n", (400,)),
    Case(
        "bare LF in request line", b"GET /now\nX HTTP/1.1\r\n" + HOST + b"\r\n", (400,)
    ),
    Case("bare CR ends a header", GET + b"X-A: b\rX-B: c\r\n\r\n", (400,)),
    Case(
        "bare CR in request line", b"GET /now\r HTTP/1.1\r\n" + HOST + b"\r\n", (400,)
    ),
    Case("bare CR in a name", GET + b"X\rA: b\r\n\r\n", (400,)),
    Case("LF CR line ends", b"GET /now HTTP/1.1\n\rHost: 127.0.0.1\n\r\n\r", (400,)),
    # Found by tests.test_fastpath: a second request in the same read was
    # parsed without the check, and Twisted waited for a CRLF until 408.
    Case(
        "bare LFs in a pipelined request",
        GET + b"\r\nGET /now HTTP/1.1\nHost: 127.0.0.1\n\n",
        (200, 400),
    ),
    Case(
        "bare LFs in a pipelined request after the page",
        b"GET / HTTP/1.1\r\n" + HOST + b"\r\nGET / HTTP/1.1\nHost: 127.0.0.1\n\n",
        (200, 400),
    ),
    # The one empty line tolerated before a request must not hide what
    # follows it.
    Case(
        "empty line, then bare LFs",
        b"\r\nGET /now HTTP/1.1\nHost: 127.0.0.1\n\n",
        (400,),
    ),
]

HEADERS = [
    # RFC 9112 section 5.2: obs-fold may be replaced by a space.
    Case("obs-fold", GET + b"X-A: a\r\n b\r\n" + CLOSE + b"\r\n", (200,)),
    Case("obs-fold with tab", GET + b"X-A: a\r\n\tb\r\n" + CLOSE + b"\r\n", (200,)),
    # RFC 9112 section 2.2: whitespace before the first field: reject.
    Case(
        "fold before the first field",
        b"GET /now HTTP/1.1\r\n " + HOST + b"\r\n",
        (400,),
    ),
    # Folded into Host, a Content-Length is no longer one, and Host is bad.
    Case(
        "Content-Length folded into Host",
        b"POST /now HTTP/1.1\r\nHost: 127.0.0.1\r\n Content-Length: 40\r\n\r\n"
        + SMUGGLED,
        (400,),
    ),
    # RFC 9112 section 5.1: whitespace before the colon MUST be 400.
    Case("space before colon", GET + b"X-A : b\r\n\r\n", (400,)),
    Case("tab before colon", GET + b"X-A\t: b\r\n\r\n", (400,)),
    Case("empty name", GET + b": b\r\n\r\n", (400,)),
    Case("no colon", GET + b"X-A b\r\n\r\n", (400,)),
    Case("name with parenthesis", GET + b"X(A): b\r\n\r\n", (400,)),
    Case("name with @", GET + b"X@A: b\r\n\r\n", (400,)),
    Case("name with slash", GET + b"X/A: b\r\n\r\n", (400,)),
    Case("NUL in name", GET + b"X\x00A: b\r\n\r\n", (400,)),
    Case("non-ASCII name", GET + b"X-\xc3\xa9: b\r\n\r\n", (400,)),
    # RFC 9110 section 5.5: NUL, CR and LF in a value MUST be rejected (or
    # replaced); other controls MAY be kept, and obs-text is allowed.
    Case("NUL in value", GET + b"X-A: b\x00c\r\n\r\n", (400,)),
    Case("control in value", GET + b"X-A: b\x01c\r\n" + CLOSE + b"\r\n", (200,)),
    Case("obs-text in value", GET + b"X-A: caf\xe9\r\n" + CLOSE + b"\r\n", (200,)),
    Case("empty value", GET + b"X-A:\r\n" + CLOSE + b"\r\n", (200,)),
    Case("tab around value", GET + b"X-A:\tb\t\r\n" + CLOSE + b"\r\n", (200,)),
    Case(
        "header line over the limit",
        GET + b"X-A: " + b"a" * 8200 + b"\r\n\r\n",
        (431,),
    ),
    Case(
        "head over the limit",
        GET + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 6000) for i in range(3)) + b"\r\n",
        (431,),
    ),
    Case(
        "100 fields",
        GET + CLOSE + b"".join(b"X-%d: a\r\n" % i for i in range(98)) + b"\r\n",
        (200,),
    ),
    Case(
        "101 fields",
        GET + CLOSE + b"".join(b"X-%d: a\r\n" % i for i in range(99)) + b"\r\n",
        (431,),
    ),
]

HOSTS = [
    Case("duplicate Host", GET + HOST + b"\r\n", (400,)),
    Case(
        "duplicate Host, HTTP/1.0",
        b"GET /now HTTP/1.0\r\n" + HOST + HOST + b"\r\n",
        (400,),
    ),
    Case("two values in one Host", b"GET /now HTTP/1.1\r\nHost: a, b\r\n\r\n", (400,)),
    # RFC 9112 section 3.2: an empty Host is how a target without an
    # authority is sent.
    Case("empty Host", b"GET /now HTTP/1.1\r\nHost:\r\n" + CLOSE + b"\r\n", (200,)),
    Case("Host with space", b"GET /now HTTP/1.1\r\nHost: a b\r\n\r\n", (400,)),
    Case("Host with path", b"GET /now HTTP/1.1\r\nHost: a/b\r\n\r\n", (400,)),
    Case("Host with userinfo", b"GET /now HTTP/1.1\r\nHost: u@a\r\n\r\n", (400,)),
    Case("Host with bad port", b"GET /now HTTP/1.1\r\nHost: a:b\r\n\r\n", (400,)),
    Case(
        "Host IPv6 literal",
        b"GET /now HTTP/1.1\r\nHost: [::1]:80\r\n" + CLOSE + b"\r\n",
        (200,),
    ),
    Case("absolute-form without Host", b"GET http://x/now HTTP/1.1\r\n\r\n", (400,)),
]

CONTENT_LENGTHS = [
    Case(
        "body is not a request",
        withLength(POST, SMUGGLED),
        (405,),
    ),
    Case(
        "GET with a body",
        withLength(GET, SMUGGLED),
        (200,),
    ),
    # Positive control: a request after a body is a pipelined request.
    Case(
        "pipelined after a body",
        withLength(POST, b"abc") + SMUGGLED,
        (405, 200),
        canary=1,
    ),
    Case(
        "duplicate Content-Length",
        POST + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc" + SMUGGLED,
        (400,),
    ),
    Case(
        "conflicting Content-Length",
        POST + b"Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc" + SMUGGLED,
        (400,),
    ),
    Case("Content-Length list", POST + b"Content-Length: 3, 3\r\n\r\nabc", (400,)),
    Case("negative Content-Length", POST + b"Content-Length: -3\r\n\r\nabc", (400,)),
    Case("signed Content-Length", POST + b"Content-Length: +3\r\n\r\nabc", (400,)),
    Case("hex Content-Length", POST + b"Content-Length: 0x3\r\n\r\nabc", (400,)),
    Case("empty Content-Length", POST + b"Content-Length:\r\n\r\n", (400,)),
    Case("spaced Content-Length", POST + b"Content-Length: 1 2\r\n\r\nabc", (400,)),
    Case("Content-Length with NUL", POST + b"Content-Length: 3\x00\r\n\r\nabc", (400,)),
    Case(
        "non-ASCII digit Content-Length",
        POST + b"Content-Length: \xd9\xa3\r\n\r\nabc",
        (400,),
    ),
    Case(
        "Content-Length space before colon",
        POST + b"Content-Length : 40\r\n\r\n" + SMUGGLED,
        (400,),
    ),
    Case(
        "overflowing Content-Length",
        POST + b"Content-Length: 99999999999999999999999999\r\n\r\n" + SMUGGLED,
        (413,),
    ),
    Case(
        "Content-Length over the limit",
        POST + b"Content-Length: 65537\r\n\r\n" + SMUGGLED,
        (413,),
    ),
    Case(
        "body at the limit",
        withLength(POST + CLOSE, b"a" * 65536),
        (405,),
    ),
]

TRANSFER_ENCODINGS = [
    Case("chunked GET", GET + CHUNKED + b"\r\n" + SMUGGLED_CHUNKED, (200,)),
    Case("chunked POST", POST + CHUNKED + b"\r\n" + SMUGGLED_CHUNKED, (405,)),
    Case(
        "chunked, uppercase",
        GET + b"Transfer-Encoding: CHUNKED\r\n\r\n" + SMUGGLED_CHUNKED,
        (200,),
    ),
    Case(
        "chunked, tab before value",
        GET + b"Transfer-Encoding:\tchunked\r\n\r\n" + SMUGGLED_CHUNKED,
        (200,),
    ),
    Case(
        "chunked, obs-folded",
        GET + b"Transfer-Encoding:\r\n chunked\r\n\r\n" + SMUGGLED_CHUNKED,
        (200,),
    ),
    # RFC 9112 section 6.1: unknown transfer codings SHOULD get 501.
    Case(
        "identity",
        POST + b"Transfer-Encoding: identity\r\n\r\n" + SMUGGLED,
        (501,),
    ),
    Case(
        "identity with Content-Length",
        POST
        + b"Transfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc"
        + SMUGGLED,
        (501,),
    ),
    Case("gzip", POST + b"Transfer-Encoding: gzip\r\n\r\n" + SMUGGLED, (501,)),
    Case("gzip, chunked", POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n", (501,)),
    Case(
        "chunked, chunked",
        POST + b"Transfer-Encoding: chunked, chunked\r\n\r\n" + SMUGGLED_CHUNKED,
        (501,),
    ),
    Case(
        "chunked twice",
        POST + CHUNKED + CHUNKED + b"\r\n" + SMUGGLED_CHUNKED,
        (400,),
    ),
    Case(
        "chunked then identity",
        POST + CHUNKED + b"Transfer-Encoding: identity\r\n\r\n" + SMUGGLED_CHUNKED,
        (501,),
    ),
    Case("xchunked", POST + b"Transfer-Encoding: xchunked\r\n\r\n" + SMUGGLED, (501,)),
    Case(
        "chunked with vertical tab",
        POST + b"Transfer-Encoding: \x0bchunked\r\n\r\n" + SMUGGLED,
        (501,),
    ),
    Case(
        "Transfer-Encoding space before colon",
        POST + b"Transfer-Encoding : chunked\r\n\r\n" + SMUGGLED_CHUNKED,
        (400,),
    ),
    # Not a Transfer-Encoding at all: the chunk is the next request.
    Case(
        "Transfer_Encoding",
        GET + b"Transfer_Encoding: chunked\r\n\r\n0\r\n\r\n",
        (200, 400),
    ),
    # RFC 9112 section 6.3: a server MAY reject both; CL.TE and TE.CL.
    Case(
        "Content-Length then chunked",
        POST + b"Content-Length: 4\r\n" + CHUNKED + b"\r\n" + SMUGGLED_CHUNKED,
        (400,),
    ),
    Case(
        "chunked then Content-Length",
        POST + CHUNKED + b"Content-Length: 60\r\n\r\n" + SMUGGLED_CHUNKED,
        (400,),
    ),
    Case(
        "chunked then Content-Length: 0",
        POST + CHUNKED + b"Content-Length: 0\r\n\r\n" + SMUGGLED_CHUNKED,
        (400,),
    ),
    # RFC 9112 section 6.1: HTTP/1.0 with Transfer-Encoding: close after.
    Case(
        "chunked in HTTP/1.0",
        b"GET /now HTTP/1.0\r\n" + CHUNKED + b"\r\n0\r\n\r\n" + SMUGGLED,
        (200,),
    ),
]

CHUNKS = [
    Case("chunk size not hex", GET + CHUNKED + b"\r\nzz\r\n" + SMUGGLED, (400,)),
    Case("negative chunk size", GET + CHUNKED + b"\r\n-1\r\nabc\r\n0\r\n\r\n", (400,)),
    Case("0x chunk size", GET + CHUNKED + b"\r\n0x3\r\nabc\r\n0\r\n\r\n", (400,)),
    Case(
        "space before chunk size", GET + CHUNKED + b"\r\n 3\r\nabc\r\n0\r\n\r\n", (400,)
    ),
    Case("empty chunk size", GET + CHUNKED + b"\r\n\r\nabc\r\n0\r\n\r\n", (400,)),
    Case(
        "chunk size line over 1 KiB",
        GET + CHUNKED + b"\r\n" + b"0" * 2000 + b"3\r\nabc\r\n0\r\n\r\n",
        (400,),
    ),
    Case(
        "chunk extension",
        GET + CHUNKED + CLOSE + b"\r\n3;a=b\r\nabc\r\n0;c\r\n\r\n",
        (200,),
    ),
    Case(
        "quoted chunk extension",
        GET + CHUNKED + CLOSE + b'\r\n3;a="b c"\r\nabc\r\n0\r\n\r\n',
        (200,),
    ),
    # RFC 9112 section 7.1.1 allows BWS before ";"; Twisted refuses it,
    # which is the safer reading of an ambiguous chunk line.
    Case(
        "space before chunk extension",
        GET + CHUNKED + CLOSE + b"\r\n3 ;a=b\r\nabc\r\n0\r\n\r\n",
        (anyOf(200, 400),),
    ),
    Case(
        "NUL in chunk extension",
        GET + CHUNKED + b"\r\n3;a\x00\r\nabc\r\n0\r\n\r\n",
        (400,),
    ),
    Case(
        "LF in chunk extension",
        GET + CHUNKED + b"\r\n3;a\nb\r\nabc\r\n0\r\n\r\n",
        (400,),
    ),
    Case(
        "chunk longer than its size",
        GET + CHUNKED + b"\r\n3\r\nabcdef\r\n0\r\n\r\n",
        (400,),
    ),
    Case(
        "chunk without CRLF",
        GET + CHUNKED + b"\r\n3\r\nabc0\r\n\r\n" + SMUGGLED,
        (400,),
    ),
    Case("trailer fields", GET + CHUNKED + CLOSE + b"\r\n0\r\nX-T: 1\r\n\r\n", (200,)),
    # Without its empty line, what follows the last chunk is its trailer, and
    # a request line is no field line (RFC 9110 section 5).
    Case("request in the trailer", GET + CHUNKED + b"\r\n0\r\n" + SMUGGLED, (400,)),
    Case(
        "chunked body over the limit",
        GET
        + CHUNKED
        + b"\r\n"
        + (b"1000\r\n" + b"a" * 0x1000 + b"\r\n") * 17
        + b"0\r\n\r\n"
        + SMUGGLED,
        (413,),
    ),
    Case(
        "chunk over the limit",
        GET + CHUNKED + b"\r\n11000\r\n" + b"a" * 0x11000 + b"\r\n0\r\n\r\n" + SMUGGLED,
        (413,),
    ),
    # The same two, with the refused request itself for the canary: it must
    # never reach the application, even once its whole body has come.
    Case(
        "chunked body over the limit, to /smuggled",
        b"GET /smuggled HTTP/1.1\r\n"
        + HOST
        + CHUNKED
        + b"\r\n"
        + (b"1000\r\n" + b"a" * 0x1000 + b"\r\n") * 17
        + b"0\r\n\r\n",
        (413,),
    ),
    Case(
        "chunked POST over the limit, to /smuggled",
        b"POST /smuggled HTTP/1.1\r\n"
        + HOST
        + CHUNKED
        + b"\r\n11000\r\n"
        + b"a" * 0x11000
        + b"\r\n0\r\n\r\n",
        (413,),
    ),
]

PIPELINES = [
    # Positive control: pipelined requests are served, canary included.
    Case(
        "pipelined",
        GET + b"\r\n" + SMUGGLED + GET + CLOSE + b"\r\n",
        (200, 200, 200),
        canary=1,
    ),
    Case(
        "pipelined then junk",
        GET + b"\r\n" + GET + b"\r\nJUNK\r\n\r\n" + SMUGGLED,
        (200, 200, 400),
    ),
    Case("junk then request", b"JUNK\r\n\r\n" + SMUGGLED, (400,)),
    Case("bad Host then request", b"GET /now HTTP/1.1\r\n\r\n" + SMUGGLED, (400,)),
    Case(
        "bare LF after a request",
        GET + b"\r\nGET /now HTTP/1.1\n\n" + SMUGGLED,
        (200, 400),
    ),
    Case("Connection: close then request", GET + CLOSE + b"\r\n" + SMUGGLED, (200,)),
    Case("HTTP/1.0 then request", b"GET /now HTTP/1.0\r\n\r\n" + SMUGGLED, (200,)),
    Case(
        "HTTP/1.0 keep-alive then request",
        b"GET /now HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + SMUGGLED,
        (200,),
    ),
    Case(
        "Expect: 100-continue",
        withLength(POST + CLOSE + b"Expect: 100-continue\r\n", b"abc"),
        (405,),
    ),
]

TIMEOUTS = [
    Case("silence", b"", (408,)),
    Case("half a request line", b"GET /no", (408,)),
    Case("head without its end", GET, (408,)),
    Case("body shorter than Content-Length", withLength(POST, b"abc")[:-1], (408,)),
    Case("chunked body without its end", GET + CHUNKED + b"\r\n3\r\nabc\r\n", (408,)),
]

# What a security review found (raw sockets against python -m clocksvc, with
# h11 as the reference parser), each as the bytes it sent.

FORM = b"Content-Type: multipart/form-data; boundary=b\r\n"
#: A part header that the email package takes quadratic time over.
QUADRATIC_PART = (
    b'--b\r\nContent-Disposition: form-data; name="'
    + b'\\";' * 8000
    + b'"\r\n\r\nx\r\n--b--\r\n'
)
#: A boundary parameter that the email package recurses into.
DEEP_BOUNDARY = (
    b"Content-Type: multipart/form-data; boundary="
    + b"(" * 3000
    + b")" * 3000
    + b"\r\n"
)
#: RFC 2231 continuations that the email package raises AttributeError on.
CONTINUED_PART = (
    b"--b\r\nContent-Disposition: form-data; name*0*=x; name*1*=y\r\n\r\nx\r\n--b--\r\n"
)
TIMESYNC = b"POST /timesync HTTP/1.1\r\n" + HOST
#: A trailer field of 100 bytes, with its CRLF.
TRAILER_FIELD = b"X-T: " + b"t" * 93 + b"\r\n"

REVIEW = [
    # Forms are never parsed: /now refuses the method, /timesync the body.
    Case("quadratic form part", withLength(POST + FORM, QUADRATIC_PART), (405,)),
    Case("deep form boundary", withLength(POST + DEEP_BOUNDARY, b"x"), (405,)),
    Case("continued form part", withLength(POST + FORM, CONTINUED_PART), (405,)),
    Case(
        "quadratic form timesync",
        withLength(TIMESYNC + FORM, QUADRATIC_PART),
        (400,),
        answered=True,
    ),
    Case(
        "deep boundary timesync",
        withLength(TIMESYNC + DEEP_BOUNDARY, b"x"),
        (400,),
        answered=True,
    ),
    Case(
        "continued part timesync",
        withLength(TIMESYNC + FORM, CONTINUED_PART),
        (400,),
        answered=True,
    ),
    # A bare LF in the trailer section: h11 reads the rest as a request.
    Case(
        "bare LF in a trailer",
        TIMESYNC + CHUNKED + b"\r\n2\r\n{}\r\n0\r\nX: y\n\n" + SMUGGLED,
        (400,),
    ),
    Case("bare CR in a trailer", GET + CHUNKED + b"\r\n0\r\nX: y\r\r\n\r\n", (400,)),
    Case(
        "bare LF ending the trailer", GET + CHUNKED + b"\r\n0\r\n\n" + SMUGGLED, (400,)
    ),
    # The trailer section is kept to the head's limits: 16 KiB, 100 fields.
    Case(
        "trailer section over 16 KiB",
        GET + CHUNKED + b"\r\n0\r\nX: " + b"t" * 16384 + b"\r\n\r\n",
        (431,),
    ),
    Case(
        "over 100 trailer fields",
        GET + CHUNKED + b"\r\n0\r\n" + b"X: t\r\n" * 101 + b"\r\n",
        (431,),
    ),
    Case(
        "100 trailer fields",
        GET + CHUNKED + CLOSE + b"\r\n0\r\n" + TRAILER_FIELD * 100 + b"\r\n",
        (200,),
    ),
    Case(
        "trailer field without a colon", GET + CHUNKED + b"\r\n0\r\nX\r\n\r\n", (400,)
    ),
    # Content-Length of more digits than Python converts.
    Case(
        "Content-Length of 5000 digits",
        POST + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n",
        (413,),
    ),
    Case(
        "Content-Length of 5000 leading zeros",
        GET + CLOSE + b"Content-Length: " + b"0" * 5000 + b"3\r\n\r\nabc",
        (200,),
    ),
    # A chunk announced over the body limit is refused at its size line.
    Case(
        "chunk size far over the limit",
        GET + CHUNKED + b"\r\nFFFFFFFFFFFFFFFF0\r\nabc",
        (413,),
    ),
    Case(
        "chunk size of 1000 zeros and a digit",
        GET + CHUNKED + CLOSE + b"\r\n" + b"0" * 1000 + b"1\r\na\r\n0\r\n\r\n",
        (200,),
    ),
    Case(
        "chunks summing over the limit",
        GET + CHUNKED + b"\r\n8000\r\n" + b"a" * 0x8000 + b"\r\n8001\r\n",
        (413,),
    ),
    # JSON has no Infinity or NaN.
    Case(
        "timesync id 1e999",
        withLength(TIMESYNC, b'{"jsonrpc":"2.0","method":"timesync","id":1e999}'),
        (400,),
        answered=True,
    ),
    Case(
        "timesync id NaN",
        withLength(TIMESYNC, b'{"jsonrpc":"2.0","method":"timesync","id":NaN}'),
        (400,),
        answered=True,
    ),
    Case(
        "timesync id -Infinity",
        withLength(TIMESYNC, b'{"jsonrpc":"2.0","method":"timesync","id":-Infinity}'),
        (400,),
        answered=True,
    ),
]

CORPUS = (
    REQUEST_LINES
    + TARGETS
    + LINE_ENDS
    + HEADERS
    + HOSTS
    + CONTENT_LENGTHS
    + TRANSFER_ENCODINGS
    + CHUNKS
    + PIPELINES
    + TIMEOUTS
    + REVIEW
)
