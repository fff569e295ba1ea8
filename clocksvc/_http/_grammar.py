# -*- test-case-name: tests.test_grammar,tests.test_hardening -*-
"""
HTTP/1.1's wire grammar (RFC 9112, and RFC 9110 for fields): everything
clocksvc knows of the shape of a request and of a response, in one place,
each rule quoting the RFC it implements.

  - L{splitHead} finds a request head in the bytes received, and refuses
    one that is too large or ends its lines with anything but CRLF;
  - L{parseHead} reads it into a L{RequestHead}: request line, field lines
    (with obs-fold), C{Host}, C{Connection}, and how the body is framed;
  - L{quickHead} says whether a head is plain enough for a quick answer;
  - L{ChunkedDecoder} and L{LengthDecoder} read a body;
  - L{rawResponse}, L{responseHead} and L{frameChunk} write responses.

Everything here is pure: bytes in, values out, or L{Refusal} with the status
to refuse the request with. The channel feeds it and acts on what it says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from twisted.web.http import RESPONSES, datetimeToString

from ._limits import Limits

__all__ = [
    "SERVER_HEADER",
    "TCHARS",
    "ChunkedDecoder",
    "LengthDecoder",
    "QuickHead",
    "Refusal",
    "RequestHead",
    "connectionOptions",
    "contentLength",
    "frameChunk",
    "httpDate",
    "isToken",
    "originForm",
    "parseHead",
    "parseQuickHead",
    "quickHead",
    "rawResponse",
    "responseHead",
    "splitHead",
    "validHost",
    "visibleTarget",
]

#: The Server header: the product, without a version to look up exploits for.
SERVER_HEADER = b"clocksvc"

_BAD_REQUEST = 400
_CONTENT_TOO_LARGE = 413
_URI_TOO_LONG = 414
_FIELDS_TOO_LARGE = 431
_NOT_IMPLEMENTED = 501
_VERSION_NOT_SUPPORTED = 505

#: RFC 6585's status, which Twisted does not name.
_REASONS = {**RESPONSES, _FIELDS_TOO_LARGE: b"Request Header Fields Too Large"}


class Refusal(Exception):
    """
    The request cannot be taken: refuse it with C{status} and close.

    @ivar status: the status.
    @ivar bodyless: whether the refusal has no body, as the answer to a
        C{HEAD} has none.
    """

    def __init__(self, status: int, bodyless: bool = False) -> None:
        super().__init__(status)
        self.status = status
        self.bodyless = bodyless


# The request head (RFC 9112 section 2.1):
#
#   HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
#   request-line = method SP request-target SP HTTP-version
#
# method is a token (RFC 9110 section 9.1); the target any visible ASCII;
# and HTTP-version = HTTP-name "/" DIGIT "." DIGIT, HTTP-name = %s"HTTP"
# (RFC 9112 section 2.3): one digit each, the name in capitals.
#
# The head is read with bytes methods, not regular expressions: a character
# class is the bytes it holds, and C{data.translate(None, chars)}, which
# deletes them, is empty if and only if every byte of C{data} is one of
# them; one loop in C, where a regular expression backtracks through each
# field value. A head is so read in two thirds of the time on CPython, and
# a quarter to a half on PyPy (bench/grammar.py; the figures are in
# docs/explanation/performance.md). The regular expressions' parser is kept
# in tests/_oldgrammar.py, and tests/test_grammardiff.py holds this one to
# it, byte for byte.
_DIGITS = b"0123456789"
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: tchar (RFC 9110 section 5.6.2): the bytes of a token, such as a method or
#: a field name; the one spelling of it (C{Forwarded}'s pattern is made from
#: it).
TCHARS = b"!#$%&'*+-.^_`|~" + _DIGITS + _LETTERS
#: VCHAR: visible ASCII, the bytes of a request target.
_VCHARS = bytes(range(0x21, 0x7F))
#: Each digit made C{0}, so that an HTTP-version is one made C{HTTP/0.0}.
_ZERO_DIGITS = bytes.maketrans(_DIGITS, b"0" * 10)

#: field-line = field-name ":" OWS field-value OWS (RFC 9110 section 5);
#: the value is read as Twisted reads it: anything but NUL, CR and LF, with
#: the white space around it stripped (section 5.5 lets other controls be).
_NOT_IN_VALUES = b"\x00\r\n"
#: OWS, the white space around a field value.
_OWS = b" \t"

#: host [ ":" port ] (RFC 9110 section 7.2): an IP literal in brackets, of
#: these bytes (IPv6 and IPv4 addresses)...
_IP_LITERAL = _DIGITS + b"ABCDEFabcdef:."
#: ... or reg-name's bytes (which cover IPv4 addresses and names).
_REG_NAME = _LETTERS + _DIGITS + b"._~!$&'()*+,;=%-"
#: port = *DIGIT, of at most five.
_PORT_DIGITS = 5

#: absolute-form (RFC 9112 section 3.2.2): scheme "://" authority, then the
#: path and query that name the resource. Rare, and clearer so.
_ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(?P<rest>[/?].*)?")


def isToken(data: bytes) -> bool:
    """
    @return: whether C{data} is a token, C{1*tchar} (RFC 9110 section
        5.6.2): a method, a field name, a connection option.
    """
    return bool(data) and not data.translate(None, TCHARS)


def _bareLineEnd(data: bytes) -> bool:
    """
    @return: whether C{data} has an LF that no CR comes before, or a CR that
        no LF follows (but for a last CR, whose LF may be still to come).
        RFC 9112 section 2.2 lets a recipient take a bare LF for a line end;
        a server that does not, behind a proxy that does, would see another
        request than the proxy saw, so both are refused.
    """
    crlf = data.count(b"\r\n")
    return data.count(b"\n") != crlf or data.count(b"\r") != crlf + data.endswith(b"\r")


def splitHead(buffer: bytes, limits: Limits, started: bool) -> tuple[bytes, int] | None:
    """
    Find the head of the next request at the start of C{buffer}.

    @param buffer: the bytes received and not yet read.
    @param limits: the limits of the request line and head.
    @param started: whether bytes of this request came before (so that an
        empty line is no longer the one tolerated before a request).
    @return: the head, without the empty line that ends it, and how many
        bytes of C{buffer} it took; L{None} if it has not all come yet.
    @raise Refusal: 400 for a bare CR or LF, 414 for a request line over
        C{limits.maxRequestLine}, 431 for a field line over it or a head over
        C{limits.maxHeaderSize}.
    """
    # RFC 9112 section 2.2: at least one empty line before a request SHOULD
    # be ignored; one is (some clients send one after a body).
    start = 2 if not started and buffer.startswith(b"\r\n") else 0
    end = buffer.find(b"\r\n\r\n", start)
    if buffer.startswith(b"\r\n", start):
        # An empty request line.
        raise Refusal(_BAD_REQUEST)
    size = end - start
    if end >= 0 and size <= limits.maxRequestLine and size <= limits.maxHeaderSize:
        # A whole head shorter than the longest line and head allowed, as
        # most are: no line and no head can be over the limits, and
        # parseHead refuses a CR or LF inside a line, as no rule of the
        # request line or of a field takes one.
        return buffer[start:end], end + 4
    head = buffer[start:] if end < 0 else buffer[start:end]
    if _bareLineEnd(head if end < 0 else head + b"\r\n"):
        raise Refusal(_BAD_REQUEST)
    lines = head.split(b"\r\n")
    if len(lines[0]) > limits.maxRequestLine:
        raise Refusal(_URI_TOO_LONG)
    if any(len(line) > limits.maxRequestLine for line in lines[1:]):
        raise Refusal(_FIELDS_TOO_LARGE)
    # The head's size counts its lines, without their line ends.
    if len(head) - 2 * (len(lines) - 1) > limits.maxHeaderSize:
        raise Refusal(_FIELDS_TOO_LARGE)
    if b"\r\n" in head:
        # The request line is all there: refuse it now, not once the head
        # is (which, from an HTTP/0.9 client, it never is).
        _requestLine(lines[0])
    if end < 0:
        return None
    return head, end + 4


class RequestHead(NamedTuple):
    """
    A request head that keeps to the grammar.

    @ivar method: the method.
    @ivar target: the request target, as sent.
    @ivar version: C{b"HTTP/1.0"} or C{b"HTTP/1.1"} (which a higher minor
        version is read as).
    @ivar fields: each field's name (as sent) and value (white space around
        it stripped, obs-folds made spaces), in order.
    @ivar length: the body's length; L{None} for a chunked body.
    @ivar persistent: whether the connection may carry another request.
    @ivar expectContinue: whether the client waits for C{100 Continue}.
    @ivar accept: the C{Accept} field, if there is exactly one.
    @ivar userAgent: the last C{User-Agent} field, if any.
    @ivar plain: whether the request could be answered from its head (and
        a small body): a C{GET} or C{HEAD}, or a C{POST} with a body of at
        most L{QUICK_BODY_SIZE} bytes framed by C{Content-Length} (or none),
        that keeps the connection, whose field lines are all plain (no
        obs-fold; values of visible ASCII, spaces and tabs), with at most
        one C{Accept} and none that frames another body, asks for an
        interim response or changes the connection.
    """

    method: bytes
    target: bytes
    version: bytes
    fields: list[tuple[bytes, bytes]]
    length: int | None
    persistent: bool
    expectContinue: bool
    accept: bytes | None = None
    userAgent: bytes | None = None
    plain: bool = False


#: The bytes of a plain field line (L{RequestHead.plain}): visible ASCII,
#: spaces and tabs.
_PLAIN = b" \t" + _VCHARS


def _plainFields(block: bytes) -> list[tuple[bytes, bytes]] | None:
    """
    Read the field lines of a head if every one is plain: field-name ":"
    OWS field-value OWS, the value of visible ASCII with spaces and tabs
    between; as most requests' every line is.

    @param block: the field lines, each but the last followed by CRLF.
    @return: each field's name and value (the white space around it
        stripped), in order; L{None} if a line is not plain, for
        L{_fieldLines} to read.
    """
    lines = block.split(b"\r\n")
    # Once the bytes of plain lines are deleted, only the CRLFs between the
    # lines may be left: no bare CR or LF, no control, no obs-text.
    if block.translate(None, _PLAIN) != b"\r\n" * (len(lines) - 1):
        return None
    fields = []
    names = []
    for line in lines:
        name, colon, value = line.partition(b":")
        # (A line that starts with white space, obs-fold, has no name.)
        if not (colon and name):
            return None
        names.append(name)
        fields.append((name, value.strip(_OWS)))
    # Every name a token: checked at once, which is quicker than by line.
    if b"".join(names).translate(None, TCHARS):
        return None
    return fields


def _fieldLines(lines: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
    """
    Read the field lines of a head.

    @raise Refusal: 400 for a line that is not a field line.
    """
    joined: list[bytes] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            # obs-fold (RFC 9112 section 5.2): a server MAY replace it with a
            # space; before the first field it can continue nothing.
            if not joined:
                raise Refusal(_BAD_REQUEST)
            joined[-1] += b" " + line.lstrip(_OWS)
        else:
            joined.append(line)
    fields = []
    for line in joined:
        name, colon, value = line.partition(b":")
        if (
            not (colon and name)
            or name.translate(None, TCHARS)
            # (Deleting NUL, CR and LF shortens a value that has one.)
            or len(value.translate(None, _NOT_IN_VALUES)) != len(value)
        ):
            raise Refusal(_BAD_REQUEST)
        fields.append((name, value.strip(_OWS)))
    return fields


def validHost(values: Sequence[bytes], version: bytes) -> bool:
    """
    @param values: the request's C{Host} field values.
    @param version: its HTTP version.
    @return: whether C{Host} is there once (in HTTP/1.1) and a host: RFC 9112
        section 3.2 asks for 400 otherwise.
    """
    if len(values) > 1 or (version == b"HTTP/1.1" and not values):
        return False
    return not values or _validHosts.get(values[0]) or _checkHost(values[0])


#: Hosts already found valid, as most requests name the same few.
_validHosts: dict[bytes, bool] = {}


def _checkHost(value: bytes) -> bool:
    """
    @return: whether C{value} is C{host [ ":" port ]}; if it is, it is kept
        among the hosts found valid.
    """
    if value.startswith(b"["):
        literal, bracket, port = value[1:].partition(b"]")
        host = bool(bracket and literal) and not literal.translate(None, _IP_LITERAL)
    else:
        name, colon, digits = value.partition(b":")
        host, port = not name.translate(None, _REG_NAME), colon + digits
    valid = host and _port(port)
    if valid:
        if len(_validHosts) >= _KEPT:
            _validHosts.clear()
        _validHosts[value] = True
    return valid


def _port(after: bytes) -> bool:
    """
    @return: whether what follows a host is nothing, or C{":"} and a port.
    """
    if not after:
        return True
    return (
        after.startswith(b":")
        and len(after) <= 1 + _PORT_DIGITS
        and not after[1:].translate(None, _DIGITS)
    )


#: The methods of the requests that may be plain (L{RequestHead.plain}).
_QUICK_METHODS = frozenset({b"GET", b"HEAD", b"POST"})
#: The largest body of a plain C{POST}: a timesync call is under 100 bytes.
QUICK_BODY_SIZE = 1024

#: Fields that keep a request from being plain: those that frame a body
#: (but a plain C{POST}'s C{Content-Length}), ask for an interim response,
#: or change the connection.
_GENERAL_FIELDS = frozenset(
    {b"content-length", b"transfer-encoding", b"expect", b"connection", b"upgrade"}
)


#: Request lines already read, as most clients send the same few.
_requestLines: dict[bytes, tuple[bytes, bytes, bytes]] = {}
#: How many it keeps: a client cannot grow it past this.
_KEPT = 256


def _requestLine(line: bytes) -> tuple[bytes, bytes, bytes]:
    """
    Read a request line, and the HTTP version and target form it asks for.

    RFC 9110 section 2.5: a higher minor version of a major version the
    server implements SHOULD be processed as the highest minor version it
    conforms to; so C{HTTP/1.2} to C{HTTP/1.9} are read as C{HTTP/1.1}, and
    answered so, persistence and all (as h11 does). Another major version
    (C{HTTP/0.9}, C{HTTP/2.0}, C{HTTP/3.0}) has no HTTP/1.1 request line to
    speak of: 505 (section 15.6.6), which is for the major version.

    The target is one of RFC 9112 section 3.2's forms: origin-form (a path),
    absolute-form (C{scheme://authority}, then a path), or asterisk-form
    (C{*}; L{ClockRequest<clocksvc._http._request.ClockRequest>} answers
    it). The fourth, authority-form (C{host:port}), is CONNECT's alone, and
    clocksvc is no proxy to tunnel through: 501, as for a method no
    resource here supports (RFC 9110 section 15.6.2). Rather than a 405, it
    names no resource of this server whose methods C{Allow} could list, and
    as a refusal it closes the connection, so that what a client sends
    after the head for the tunnel is never read as a request.

    @return: the method, target and version of a request line; the version
        is C{b"HTTP/1.0"} or C{b"HTTP/1.1"}.
    @raise Refusal: 400 if it is not a request line, or its target is in
        none of the forms above; 505 for another major version; 501 for
        C{CONNECT}.
    """
    known = _requestLines.get(line)
    if known is not None:
        return known
    parts = line.split(b" ")
    if len(parts) != 3:
        raise Refusal(_BAD_REQUEST)
    method, target, version = parts
    if (
        not (method and target)
        or method.translate(None, TCHARS)
        or target.translate(None, _VCHARS)
        or version.translate(_ZERO_DIGITS) != b"HTTP/0.0"
    ):
        raise Refusal(_BAD_REQUEST)
    if not version.startswith(b"HTTP/1."):
        raise Refusal(_VERSION_NOT_SUPPORTED, bodyless=method == b"HEAD")
    if version > b"HTTP/1.1":
        version = b"HTTP/1.1"
    if method == b"CONNECT":
        raise Refusal(_NOT_IMPLEMENTED)
    if not (
        target.startswith(b"/")
        or target == b"*"
        or _ABSOLUTE_FORM.fullmatch(target) is not None
    ):
        raise Refusal(_BAD_REQUEST)
    if len(_requestLines) >= _KEPT:
        _requestLines.clear()
    _requestLines[line] = (method, target, version)
    return method, target, version


def parseHead(head: bytes, limits: Limits, draining: bool = False) -> RequestHead:
    """
    Read a request head, in one pass over its field lines.

    The body's framing (RFC 9112 section 6) is by C{Content-Length} or the
    chunked transfer coding: a C{Content-Length} that is not a number, and a
    second framing field, are 400, as they are how requests are smuggled
    (section 6.3); a length over the limit, 413; a transfer coding other
    than chunked (section 6.1), C{identity} included, whose body another
    parser might take for the next request, 501.

    @param head: the head, as L{splitHead} found it.
    @param limits: the limits of fields and body.
    @param draining: whether the server is closing its connections, so that
        this one may carry no more requests.
    @return: the head.
    @raise Refusal: what is wrong with it.
    """
    first, _, block = head.partition(b"\r\n")
    method, target, version = _requestLine(first)
    plain = method in _QUICK_METHODS
    fields = _plainFields(block) if block else []
    if fields is None:
        # obs-fold, obs-text or controls: the careful reading, for all.
        fields = _fieldLines(block.split(b"\r\n"))
        plain = False
    if len(fields) > limits.maxHeaders:
        raise Refusal(_FIELDS_TOO_LARGE)
    framed = False
    length: int | None = 0
    hosts: list[bytes] = []
    connection: list[bytes] = []
    expect: list[bytes] = []
    accepts: list[bytes] = []
    userAgent = None
    for name, value in fields:
        name = name.lower()
        if name == b"host":
            hosts.append(value)
        elif name == b"accept":
            accepts.append(value)
        elif name == b"user-agent":
            userAgent = value
        elif name in _GENERAL_FIELDS:
            if name == b"content-length":
                parsed = contentLength(value, limits.maxBodySize)
                if parsed is None:
                    raise Refusal(_BAD_REQUEST)
                if parsed > limits.maxBodySize:
                    raise Refusal(_CONTENT_TOO_LARGE)
                length = parsed
                # Only a POST's small body is read for a quick answer.
                if method != b"POST" or parsed > QUICK_BODY_SIZE:
                    plain = False
            elif name == b"transfer-encoding":
                plain = False
                if value.lower() != b"chunked":
                    raise Refusal(_NOT_IMPLEMENTED)
                length = None
            else:
                plain = False
                if name == b"connection":
                    connection.append(value)
                elif name == b"expect":
                    expect.append(value)
                continue
            if framed:
                raise Refusal(_BAD_REQUEST)
            framed = True
    if not validHost(hosts, version):
        raise Refusal(_BAD_REQUEST, bodyless=method == b"HEAD")
    # RFC 9112 section 9.3: HTTP/1.1 persists unless "close" is among the
    # Connection options; HTTP/1.0 is taken as closing, keep-alive or not.
    persistent = (
        version == b"HTTP/1.1"
        and not draining
        and not (connection and b"close" in connectionOptions(connection))
    )
    expectContinue = (
        version == b"HTTP/1.1" and bool(expect) and expect[0].lower() == b"100-continue"
    )
    return RequestHead(
        method,
        target,
        version,
        fields,
        length,
        persistent,
        expectContinue,
        accepts[0] if len(accepts) == 1 else None,
        userAgent,
        plain and persistent and len(accepts) <= 1,
    )


def visibleTarget(target: bytes) -> bool:
    """
    @return: whether C{target} is visible ASCII, as every request target is
        (RFC 9112 section 3.2).
    """
    return not target.translate(None, _VCHARS)


def originForm(target: bytes) -> bytes:
    """
    @return: the path and query of C{target}: itself, or, in absolute-form
        (C{http://host/path?query}, RFC 9112 section 3.2.2), the part after
        the authority, C{/} if that is empty.
    """
    absolute = _ABSOLUTE_FORM.fullmatch(target)
    if absolute is None:
        return target
    rest = absolute.group("rest") or b"/"
    return b"/" + rest if rest.startswith(b"?") else rest


class QuickHead(NamedTuple):
    """
    A request plain enough to be answered without Twisted's request
    machinery: a C{GET} or C{HEAD} over HTTP/1.1 that keeps the connection,
    with no body and nothing that asks for more than an answer; or such a
    C{POST} with a small body (L{RequestHead.plain}).

    @ivar method: C{b"GET"}, C{b"HEAD"} or C{b"POST"}.
    @ivar target: the request target.
    @ivar accept: the C{Accept} field, if there is one.
    @ivar userAgent: the C{User-Agent} field, if there is one, for the
        access log.
    @ivar body: a C{POST}'s body.
    """

    method: bytes
    target: bytes
    accept: bytes | None
    userAgent: bytes | None
    body: bytes = b""


def quickHead(head: RequestHead) -> QuickHead | None:
    """
    @return: C{head} as a L{QuickHead}, if it is plain (L{RequestHead.plain});
        else L{None}.
    """
    if not head.plain:
        return None
    return QuickHead(head.method, head.target, head.accept, head.userAgent)


def parseQuickHead(head: bytes, limits: Limits) -> QuickHead | None:
    """
    @param head: a request head, without the empty line that ends it.
    @return: the head as a L{QuickHead}, or L{None} if it is not a plain
        request that keeps to the grammar.
    """
    try:
        if splitHead(head + b"\r\n\r\n", limits, started=True) is None:
            return None
        return quickHead(parseHead(head, limits))
    except Refusal:
        return None


_lastDate: tuple[int, bytes] = (-1, b"")


def httpDate(seconds: float) -> bytes:
    """
    @param seconds: seconds since the epoch.
    @return: the HTTP date of that instant, as in a C{Date} header (RFC 9110
        section 5.6.7); the last one is kept, as every response in a second
        asks for the same.
    """
    global _lastDate
    whole = int(seconds)
    if _lastDate[0] != whole:
        _lastDate = (whole, datetimeToString(whole))
    return _lastDate[1]


def responseHead(
    status: int, fields: Sequence[tuple[bytes, bytes]], reason: bytes | None = None
) -> bytes:
    """
    @return: a response's head: status-line CRLF, each field line CRLF, and
        the empty line (RFC 9112 section 4).
    """
    phrase = _REASONS.get(status, b"") if reason is None else reason
    return b"HTTP/1.1 %d %s\r\n%s\r\n" % (
        status,
        phrase,
        b"".join(b"%s: %s\r\n" % field for field in fields),
    )


def rawResponse(status: int, bodyless: bool = False) -> bytes:
    """
    @param bodyless: whether to leave the body out (but not its length), as
        the answer to a C{HEAD}.
    @return: a complete response with C{status}, a one-line body, and
        C{Connection: close}: for refusing on the connection itself, when
        there is no request to answer through.
    """
    reason = _REASONS[status]
    body = b"%d %s\n" % (status, reason)
    return responseHead(
        status,
        [
            (b"Server", SERVER_HEADER),
            (b"Content-Type", b"text/plain; charset=utf-8"),
            (b"Content-Length", b"%d" % len(body)),
            (b"Connection", b"close"),
        ],
    ) + (b"" if bodyless else body)


def frameChunk(data: bytes) -> bytes:
    """
    @return: C{data} as one chunk of a chunked body (RFC 9112 section 7.1).
    """
    return b"%x\r\n%s\r\n" % (len(data), data)


#: chunk-size = 1*HEXDIG, then chunk-ext = *( BWS ";" BWS chunk-ext-name
#: [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 section 7.1.1). Extensions are
#: read as Twisted reads them: any visible or obs-text byte and tab after
#: the first ";", nothing between the size and it.
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]+)(?:;[\t\x20-\x7e\x80-\xff]*)?")

#: The longest chunk-size line read, extensions included: what Twisted
#: allows, and far more than any client sends.
MAX_CHUNK_SIZE_LINE = 1024

#: field-line = field-name ":" OWS field-value OWS (RFC 9110 section 5),
#: for the trailer section; field-vchar is visible ASCII or obs-text.
_FIELD_LINE = re.compile(
    rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*"
    rb"(?:[\x21-\x7e\x80-\xff](?:[ \t\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?"
    rb"[ \t]*"
)


def contentLength(value: bytes, maxBodySize: int) -> int | None:
    """
    Read a C{Content-Length} value: C{1*DIGIT} (RFC 9110 section 8.6).

    @param value: the field's value, without surrounding white space.
    @param maxBodySize: the largest body taken.
    @return: the length, or L{None} if it is not a number; a number of more
        digits than C{maxBodySize} has (leading zeros aside) is taken as
        C{maxBodySize + 1} without being converted, so that no client
        chooses how long the conversion takes (or makes Python refuse it).
    """
    if not value.isdigit() or not value.isascii():
        return None
    digits = value.lstrip(b"0") or b"0"
    if len(digits) > len(b"%d" % maxBodySize):
        return maxBodySize + 1
    return int(digits)


def connectionOptions(values: list[bytes]) -> frozenset[bytes]:
    """
    @param values: every C{Connection} field line of a request.
    @return: the connection options they name, in lower case:
        C{Connection = #connection-option} (RFC 9110 section 7.6.1), a
        comma-separated list, which may be split across field lines
        (section 5.3).
    """
    return frozenset(
        option.strip(b" \t").lower()
        for value in values
        for option in value.split(b",")
        if option.strip(b" \t")
    )


class ChunkedDecoder:
    """
    Reads a chunked body (RFC 9112 section 7.1), strictly::

        chunked-body   = *chunk last-chunk trailer-section CRLF
        chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
        last-chunk     = 1*("0") [ chunk-ext ] CRLF
        trailer-section = *( field-line CRLF )

    Every line ends in CRLF: a bare LF, which other parsers would take for a
    line end, is refused (400), as it is in the request head; otherwise a
    proxy that reads it differently would see another request in the body.
    A chunk whose declared size would take the body past its limit is
    refused (413) as soon as its size line is read, not once the data has
    come. The trailer section is kept to the head's limits (431), and its
    fields are read and dropped: nothing in clocksvc uses them.

    @ivar finished: whether the body is complete.
    """

    finished = False

    def __init__(
        self,
        data: Callable[[bytes], None],
        finish: Callable[[bytes], None],
        refuse: Callable[[int], None],
        maxBodySize: int,
        maxHeaderSize: int,
        maxHeaders: int,
    ) -> None:
        """
        @param data: takes each piece of the body's data.
        @param finish: called once the body is complete, with the bytes
            received after it (the start of the next request).
        @param refuse: called, once, with the status to refuse the request
            with; nothing is called after it.
        @param maxBodySize: the most bytes of data the body may carry.
        @param maxHeaderSize: the most bytes of trailer section.
        @param maxHeaders: the most trailer fields.
        """
        self._data = data
        self._finish = finish
        self._refuse = refuse
        self._maxBodySize = maxBodySize
        self._maxHeaderSize = maxHeaderSize
        self._maxHeaders = maxHeaders
        # What is unread is _buffer from _at on: each step moves _at rather
        # than copying the rest, so that a read full of tiny chunks costs
        # time in proportion to its length, not to its square.
        self._buffer = b""
        self._at = 0
        self._state = self._sizeLine
        self._remaining = 0
        self._bodySize = 0
        self._trailerSize = 0
        self._trailers = 0
        self._refused = False

    def dataReceived(self, data: bytes) -> None:
        """
        Read more of the body.
        """
        if self._refused or self.finished:
            return
        # What the last read left is at most a line (the limits bound it):
        # one copy of it, once a read.
        self._buffer = self._buffer[self._at :] + data
        self._at = 0
        while self._at < len(self._buffer) and not self._refused and not self.finished:
            if not self._state():
                return

    def noMoreData(self) -> None:
        """
        The connection ended; an unfinished body is simply dropped.
        """

    def _fail(self, status: int) -> bool:
        self._refused = True
        self._buffer, self._at = b"", 0
        self._refuse(status)
        return False

    def _line(self, limit: int, tooLong: int) -> bytes | None:
        """
        Take one CRLF-ended line from the buffer.

        @param limit: the longest the line may be.
        @param tooLong: the status to refuse a longer one with.
        @return: the line without its CRLF; L{None} if it has not all come
            yet, or if it was refused.
        """
        buffer, at = self._buffer, self._at
        end = buffer.find(b"\r\n", at)
        line = buffer[at:] if end < 0 else buffer[at:end]
        # A CR at the very end may be the start of the CRLF still to come.
        inside = line[:-1] if end < 0 and line.endswith(b"\r") else line
        if b"\n" in inside or b"\r" in inside:
            # A bare LF, or a CR that no LF follows, ends no line here.
            self._fail(_BAD_REQUEST)
            return None
        if len(inside) > limit:
            self._fail(tooLong)
            return None
        if end < 0:
            return None
        self._at = end + 2
        return line

    def _sizeLine(self) -> bool:
        line = self._line(MAX_CHUNK_SIZE_LINE, _BAD_REQUEST)
        if line is None:
            return False
        match = _CHUNK_SIZE_LINE.fullmatch(line)
        if match is None:
            return self._fail(_BAD_REQUEST)
        # More hex digits than the limit has (leading zeros aside) is over
        # it: refused without converting a number a client chose the size of.
        digits = match.group(1).lstrip(b"0") or b"0"
        if len(digits) > len(b"%x" % self._maxBodySize):
            return self._fail(_CONTENT_TOO_LARGE)
        size = int(digits, 16)
        if self._bodySize + size > self._maxBodySize:
            return self._fail(_CONTENT_TOO_LARGE)
        if size == 0:
            self._state = self._trailerLine
        else:
            self._remaining = size
            self._state = self._chunkData
        return True

    def _chunkData(self) -> bool:
        piece = self._buffer[self._at : self._at + self._remaining]
        self._at += len(piece)
        self._remaining -= len(piece)
        self._bodySize += len(piece)
        if not self._remaining:
            self._state = self._chunkEnd
        self._data(piece)
        return True

    def _chunkEnd(self) -> bool:
        end = self._buffer[self._at : self._at + 2]
        if len(end) < 2:
            if end not in (b"", b"\r"):
                return self._fail(_BAD_REQUEST)
            return False
        if end != b"\r\n":
            return self._fail(_BAD_REQUEST)
        self._at += 2
        self._state = self._sizeLine
        return True

    def _trailerLine(self) -> bool:
        line = self._line(self._maxHeaderSize - self._trailerSize, _FIELDS_TOO_LARGE)
        if line is None:
            return False
        if not line:
            self.finished = True
            rest = self._buffer[self._at :]
            self._buffer, self._at = b"", 0
            self._finish(rest)
            return False
        self._trailerSize += len(line) + 2
        self._trailers += 1
        if self._trailerSize > self._maxHeaderSize or self._trailers > self._maxHeaders:
            return self._fail(_FIELDS_TOO_LARGE)
        if _FIELD_LINE.fullmatch(line) is None:
            return self._fail(_BAD_REQUEST)
        return True


class LengthDecoder:
    """
    Reads a body of a known length (RFC 9112 section 6.2), for the same
    callers as L{ChunkedDecoder}.
    """

    def __init__(
        self,
        length: int,
        data: Callable[[bytes], None],
        finish: Callable[[bytes], None],
    ) -> None:
        """
        @param length: the body's length, above 0.
        @param data: takes each piece of the body.
        @param finish: called once the body is complete, with the bytes
            received after it.
        """
        self._remaining = length
        self._data = data
        self._finish = finish

    def dataReceived(self, data: bytes) -> None:
        """
        Read more of the body.
        """
        piece, rest = data[: self._remaining], data[self._remaining :]
        self._remaining -= len(piece)
        if piece:
            self._data(piece)
        if not self._remaining:
            self._finish(rest)
