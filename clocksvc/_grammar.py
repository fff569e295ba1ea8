# -*- test-case-name: tests.test_grammar,tests.test_hardening -*-
"""
Pieces of HTTP/1.1's wire grammar (RFC 9112 and RFC 9110) that clocksvc
reads itself, each quoting the rule it implements: the framing of a chunked
body with its trailer section, the C{Content-Length} value, and the
C{Connection} field's list of options.

They are pure: bytes in, values or a refusal status out. The channel feeds
them and acts on what they say.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "ChunkedDecoder",
    "connectionOptions",
    "contentLength",
]

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

_BAD_REQUEST = 400
_CONTENT_TOO_LARGE = 413
_FIELDS_TOO_LARGE = 431


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
    Reads a chunked body (RFC 9112 section 7.1), strictly:

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
        self._buffer = b""
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
        self._buffer += data
        while self._buffer and not self._refused and not self.finished:
            if not self._state():
                return

    def noMoreData(self) -> None:
        """
        The connection ended; an unfinished body is simply dropped.
        """

    def _fail(self, status: int) -> bool:
        self._refused = True
        self._buffer = b""
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
        end = self._buffer.find(b"\r\n")
        line = self._buffer if end < 0 else self._buffer[:end]
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
        self._buffer = self._buffer[end + 2 :]
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
        piece = self._buffer[: self._remaining]
        self._buffer = self._buffer[len(piece) :]
        self._remaining -= len(piece)
        self._bodySize += len(piece)
        if not self._remaining:
            self._state = self._chunkEnd
        self._data(piece)
        return True

    def _chunkEnd(self) -> bool:
        if len(self._buffer) < 2:
            if self._buffer not in (b"", b"\r"):
                return self._fail(_BAD_REQUEST)
            return False
        if not self._buffer.startswith(b"\r\n"):
            return self._fail(_BAD_REQUEST)
        self._buffer = self._buffer[2:]
        self._state = self._sizeLine
        return True

    def _trailerLine(self) -> bool:
        line = self._line(self._maxHeaderSize - self._trailerSize, _FIELDS_TOO_LARGE)
        if line is None:
            return False
        if not line:
            self.finished = True
            rest, self._buffer = self._buffer, b""
            self._finish(rest)
            return False
        self._trailerSize += len(line) + 2
        self._trailers += 1
        if self._trailerSize > self._maxHeaderSize or self._trailers > self._maxHeaders:
            return self._fail(_FIELDS_TOO_LARGE)
        if _FIELD_LINE.fullmatch(line) is None:
            return self._fail(_BAD_REQUEST)
        return True
