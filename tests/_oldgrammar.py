"""
The request-head parser as it was before issue 25 (regular expressions):
kept, unchanged but for its imports, as the oracle that
C{tests/test_grammardiff.py} compares the parser of
L{clocksvc._http._grammar} with, byte for byte, on generated heads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from clocksvc._http._grammar import Refusal, RequestHead
from clocksvc._http._limits import Limits

__all__ = ["parseHead", "splitHead", "validHost", "visibleTarget"]

_BAD_REQUEST = 400
_CONTENT_TOO_LARGE = 413
_URI_TOO_LONG = 414
_FIELDS_TOO_LARGE = 431
_NOT_IMPLEMENTED = 501
_VERSION_NOT_SUPPORTED = 505


# The request head (RFC 9112 section 2.1):
#
#   HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
#   request-line = method SP request-target SP HTTP-version
#
# method is a token (RFC 9110 section 9.1); the target any visible ASCII;
# and HTTP-version = HTTP-name "/" DIGIT "." DIGIT, HTTP-name = %s"HTTP"
# (RFC 9112 section 2.3): one digit each, the name in capitals.
_TCHAR = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]"
_REQUEST_LINE = re.compile(rb"(" + _TCHAR + rb"+) ([\x21-\x7e]+) (HTTP/[0-9]\.[0-9])")
#: field-line = field-name ":" OWS field-value OWS (RFC 9110 section 5);
#: the value is read as Twisted reads it: anything but NUL, CR and LF, with
#: the white space around it stripped (section 5.5 lets other controls be).
_FIELD = re.compile(rb"(" + _TCHAR + rb"+):([^\x00\r\n]*)")

#: host [ ":" port ] (RFC 9110 section 7.2): an IP literal in brackets, or
#: reg-name characters (which cover IPv4 addresses and names).
_HOST = re.compile(rb"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(:[0-9]{0,5})?")

#: Bytes that are not visible ASCII, which no request target holds (RFC 9112
#: section 3.2).
_NOT_VISIBLE = re.compile(rb"[^\x21-\x7e]")
#: absolute-form (RFC 9112 section 3.2.2): scheme "://" authority, then the
#: path and query that name the resource.
_ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(?P<rest>[/?].*)?")


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
    start = 0
    if not started and buffer.startswith(b"\r\n"):
        # RFC 9112 section 2.2: at least one empty line before a request
        # SHOULD be ignored; one is (some clients send one after a body).
        start = 2
    end = buffer.find(b"\r\n\r\n", start)
    if buffer.startswith(b"\r\n", start):
        # An empty request line.
        raise Refusal(_BAD_REQUEST)
    head = buffer[start:] if end < 0 else buffer[start:end]
    if end >= 0 and len(head) <= min(limits.maxRequestLine, limits.maxHeaderSize):
        # A whole head shorter than the longest line and head allowed, as
        # most are: no line and no head can be over the limits, and
        # parseHead refuses a CR or LF inside a line, as no rule of the
        # request line or of a field takes one.
        return head, end + 4
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


#: A plain field value: visible ASCII with spaces and tabs between, so that
#: it starts and ends with a visible character; or nothing.
_PLAIN_VALUE = rb"(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?"
#: A plain field line: field-name ":" OWS field-value OWS, with a plain
#: value; most requests' every line is.
_PLAIN_LINE = _TCHAR + rb"+:[ \t]*" + _PLAIN_VALUE + rb"[ \t]*"
#: A head's field lines, each of them plain: matched in one call rather than
#: line by line, as a browser sends ten or more.
_PLAIN_FIELDS = re.compile(rb"(?:" + _PLAIN_LINE + rb"\r\n)*" + _PLAIN_LINE)
#: The name and value of each line of plain field lines.
_PLAIN_FIELD_LINE = re.compile(
    rb"(" + _TCHAR + rb"+):[ \t]*(" + _PLAIN_VALUE + rb")[ \t]*(?:\r\n|\Z)"
)


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
            joined[-1] += b" " + line.lstrip(b" \t")
        else:
            joined.append(line)
    fields = []
    for line in joined:
        match = _FIELD.fullmatch(line)
        if match is None:
            raise Refusal(_BAD_REQUEST)
        fields.append((match.group(1), match.group(2).strip(b" \t")))
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
    valid = _HOST.fullmatch(value) is not None
    if valid:
        if len(_validHosts) >= _KEPT:
            _validHosts.clear()
        _validHosts[value] = True
    return valid


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
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        raise Refusal(_BAD_REQUEST)
    method, target, version = match.groups()
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
    fields: list[tuple[bytes, bytes]]
    if not block:
        fields = []
    elif _PLAIN_FIELDS.fullmatch(block):
        fields = _PLAIN_FIELD_LINE.findall(block)
    else:
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


def visibleTarget(target: bytes) -> bool:
    """
    @return: whether C{target} is visible ASCII, as every request target is
        (RFC 9112 section 3.2).
    """
    return _NOT_VISIBLE.search(target) is None
