"""
The request-head parser of L{clocksvc._http._grammar}, read with bytes
methods, against the regular-expression parser it replaced
(C{tests/_oldgrammar.py}), byte for byte: the same heads found, the same
L{RequestHead}s, the same refusals at the same bytes, on generated requests
fed in pieces as a connection receives them.

Two parsers that disagree on where a request ends, or on what it says, are
how requests are smuggled (aiohttp's pure and C parsers once disagreed on
trailers); so the old parser stays, as this test's oracle.

C{HYPOTHESIS_PROFILE=thorough} runs it on many more examples.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import NamedTuple, TypeVar, cast

from hypothesis import example, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._http import _grammar
from clocksvc._http._grammar import Refusal
from clocksvc._http._limits import Limits

from . import _oldgrammar

T = TypeVar("T")

#: Examples per run: at least a few hundred, more under a profile that asks.
EXAMPLES = max(500, settings().max_examples)


@st.composite
def tokens(draw: st.DrawFn, *words: bytes) -> bytes:
    """
    @return: one of C{words}, in any letter case.
    """
    word: bytes = draw(st.sampled_from(words))
    return bytes(c - 32 if 97 <= c <= 122 and draw(st.booleans()) else c for c in word)


@st.composite
def mostly(
    draw: st.DrawFn,
    good: st.SearchStrategy[T],
    bad: st.SearchStrategy[T],
    percent: int = 85,
) -> T:
    """
    @return: what C{good} draws, C{percent} times in a hundred, else what
        C{bad} draws.
    """
    chosen: T = draw(good if draw(st.sampled_from(range(100))) < percent else bad)
    return chosen


#: Bytes that matter to the grammar, and some that do not.
_SHARP = st.sampled_from(
    [
        b"\r",
        b"\n",
        b" ",
        b"\t",
        b":",
        b"\x00",
        b"\x7f",
        b"\x80",
        b"\xff",
        b"a",
        b",",
        b"[",
        b"]",
        b"/",
        b"0",
    ]
)
_BYTE = _SHARP | st.binary(min_size=1, max_size=1)

_METHODS = mostly(
    st.sampled_from([b"GET", b"HEAD", b"POST", b"PUT", b"OPTIONS"]),
    st.sampled_from([b"CONNECT", b"PRI", b"get", b"G:T", b"GE\x00T", b"G\xc3\x89T"])
    | st.sampled_from([b"", b"GET\t", b"A{", b"G T"])
    | st.text("!#$%&'*+-.^_`|~az09()", min_size=1, max_size=6).map(str.encode),
    percent=93,
)
_TARGETS = mostly(
    st.sampled_from([b"/", b"/now", b"/now?tz=UTC", b"*", b"http://a/now"])
    | st.integers(0, 140).map(lambda n: b"/" + b"a" * n),
    st.sampled_from(
        [
            b"//",
            b"http://a",
            b"h://a?x",
            b"HTTP://a#x",
            b"http://a#/",
            b"1a://b/",
            b"a:443",
            b"[::1]:443",
            b"now",
            b"*now",
            b"mailto:a",
            b"a://b:c",
            b"/a\x7f",
            b"/\x80",
            b"",
            b"/a b",
            b"http:/a",
            b"-a://b",
        ]
    )
    | st.binary(max_size=12),
    percent=93,
)
_VERSIONS = mostly(
    st.sampled_from([b"HTTP/1.1"] * 4 + [b"HTTP/1.0", b"HTTP/1.2", b"HTTP/1.9"]),
    st.sampled_from(
        [
            b"HTTP/0.9",
            b"HTTP/2.0",
            b"HTTP/3.0",
            b"HTTP/1.10",
            b"HTTP/1",
            b"http/1.1",
            b"HTTP/1.x",
            b"HTTP/\xd9\xa1.1",
            b"HTTPS/1.1",
            b"HTTP/1.1 ",
        ]
    )
    | st.builds(lambda major, minor: b"HTTP/" + major + b"." + minor, _BYTE, _BYTE),
    percent=93,
)

_HOSTS = mostly(
    st.sampled_from([b"a", b"localhost:8880", b"127.0.0.1", b"[::1]", b"[::1]:80"])
    | st.sampled_from([b"a:", b"example.com:65535", b"a%41", b"[1.2.3.4]"]),
    st.sampled_from(
        [
            b"[::1",
            b"[]",
            b"[::1]x",
            b"[::g]",
            b"a:99999",
            b"a:123456",
            b"a:8x",
            b":80",
            b"",
            b"a b",
            b"\xc3\xa9",
            b"a:b:c",
            b"a]",
            b"[::1]:",
            b"[a]:1:",
        ]
    )
    | st.binary(max_size=8),
    percent=75,
)


@st.composite
def hostParts(draw: st.DrawFn) -> bytes:
    """
    @return: a Host value made of the pieces its rule names, with bytes
        that belong in none among them: an IP literal or a name, then a
        port.
    """
    host = draw(
        st.builds(
            lambda inside, close: b"[" + inside + close,
            st.text("0123456789abcdefABCDEFgG:.[]x %", max_size=6).map(str.encode),
            st.sampled_from([b"]", b"]", b""]),
        )
        | st.text("az09._~!$&'()*+,;=%-/@[]? \x00", max_size=6).map(str.encode)
    )
    port = draw(
        st.sampled_from([b"", b":"])
        | st.text("0123456789x:", max_size=7).map(lambda port: b":" + port.encode())
    )
    return host + port


_LENGTHS = mostly(
    st.sampled_from([b"0", b"10", b"1024", b"000012"])
    | st.integers(0, 2000).map(lambda n: b"%d" % n),
    st.sampled_from([b"1025", b"65537", b"-1", b"1,1", b"1 1", b"+1", b"\xd9\xa3", b""])
    | st.integers(0, 10**30).map(lambda n: b"%d" % n),
)
_CODINGS = st.sampled_from(
    [b"chunked", b"Chunked", b"gzip, chunked", b"identity", b"chunked ", b""]
)
_OPTIONS = st.sampled_from(
    [b"close", b"keep-alive", b"Upgrade, close", b"CLOSE", b" , close,", b"te"]
)
_VALUES = mostly(
    st.sampled_from([b"", b"*/*", b"text/html;q=0.9", b"100-continue", b"h2c"])
    | st.text('ab ;=\t,"/', max_size=12).map(str.encode),
    st.sampled_from([b"x\x01y", b"\x80", b"a\x7f", b"a\x00"]) | st.binary(max_size=10),
)
_NAMES = mostly(
    st.sampled_from([b"X-A", b"Accept-Language", b"Cookie", b"sec-ch-ua", b"te"]),
    st.sampled_from([b"Bad Name", b"", b"X\x00", b"X:Y", b"\xc3\xa9", b"A{"])
    | st.binary(max_size=4),
)

#: A field line's name and value: mostly one of those that decide nothing,
#: else one that does, or one that is wrong.
_FIELDS = mostly(
    st.tuples(
        st.sampled_from([b"X-A", b"Accept-Language", b"Cookie", b"sec-ch-ua", b"te"]),
        st.sampled_from([b"", b"*/*", b"text/html;q=0.9", b"h2c", b"a=b; c=d"])
        | st.text('ab ;=\t,"/', max_size=12).map(str.encode),
    ),
    st.one_of(
        st.tuples(tokens(b"host"), _HOSTS),
        st.tuples(tokens(b"content-length"), _LENGTHS),
        st.tuples(tokens(b"transfer-encoding"), _CODINGS),
        st.tuples(tokens(b"connection"), _OPTIONS),
        st.tuples(tokens(b"expect", b"accept", b"user-agent", b"upgrade"), _VALUES),
        st.tuples(_NAMES, _VALUES),
        st.tuples(st.just(b"X-Pad"), st.integers(0, 300).map(lambda n: b"x" * n)),
    ),
    percent=60,
)
_OWS = st.sampled_from([b"", b" ", b" ", b"\t", b" \t ", b"  "])


@st.composite
def fieldLine(draw: st.DrawFn) -> bytes:
    """
    @return: a field line: name, colon, white space, value, white space; or
        sometimes an obs-fold, or a line without its colon.
    """
    name: bytes
    value: bytes
    name, value = draw(_FIELDS)
    shape = draw(st.sampled_from(["line"] * 38 + ["fold", "colonless"]))
    if shape == "fold":
        return draw(st.sampled_from([b" ", b"\t"])) + value
    if shape == "colonless":
        return name + value
    return name + b":" + draw(_OWS) + value + draw(_OWS)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """
    @return: C{data} with a few bytes inserted, deleted or replaced.
    """
    for _ in range(draw(st.integers(1, 3))):
        # (Integers lean to their bounds; a position anywhere is as likely.)
        where = draw(st.sampled_from(range(len(data) + 1)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(_BYTE)
        if kind == "insert":
            data = data[:where] + byte + data[where:]
        elif kind == "delete":
            data = data[:where] + data[where + draw(st.integers(1, 4)) :]
        else:
            data = data[:where] + byte + data[where + 1 :]
    return data


@st.composite
def heads(draw: st.DrawFn) -> bytes:
    """
    @return: a request head, without the empty line that ends it: mostly
        well-formed (one Host, first, as clients send it), sometimes
        mutated.
    """
    line = draw(_METHODS) + b" " + draw(_TARGETS) + b" " + draw(_VERSIONS)
    lines = [line, *draw(st.lists(fieldLine(), max_size=14))]
    if draw(st.integers(0, 9)):
        lines.insert(1, b"Host: " + draw(_HOSTS))
    head = b"\r\n".join(lines)
    return draw(mutated(head)) if draw(st.sampled_from(range(4))) == 0 else head


_ENDINGS = st.sampled_from(
    [b"\r\n\r\n"] * 6 + [b"\r\n", b"\n\n", b"\r\n\n", b"\r\n\r", b"\n\r\n", b""]
)

#: Limits small enough that generated lines and heads come near them.
_LIMITS = st.one_of(
    st.just(Limits(maxConnections=100)),
    st.builds(
        Limits,
        maxBodySize=st.sampled_from([0, 5, 1024, 64 * 1024]),
        maxConnections=st.just(100),
        maxRequestLine=st.integers(8, 160),
        maxHeaderSize=st.integers(8, 400),
        maxHeaders=st.integers(0, 14),
    ),
)


class Refused(NamedTuple):
    """
    A L{Refusal}, as a value to compare.
    """

    status: int
    bodyless: bool


def outcome(call: Callable[[], object]) -> object:
    """
    @return: what C{call} returns, or the L{Refused} it raises.
    """
    try:
        return call()
    except Refusal as e:
        return Refused(e.status, e.bodyless)


def readings(module: ModuleType, head: bytes, limits: Limits) -> tuple[object, object]:
    """
    @return: what C{module}'s L{parseHead} makes of C{head}, and its
        L{splitHead} of C{head} and the empty line after it.
    """
    return (
        outcome(lambda: module.parseHead(head, limits)),
        outcome(lambda: module.splitHead(head + b"\r\n\r\n", limits, False)),
    )


def forget(module: ModuleType) -> None:
    """
    Empty C{module}'s caches of request lines and hosts, so that the next
    reading of each is a reading, not a look-up.
    """
    cast(dict[bytes, object], module._requestLines).clear()
    cast(dict[bytes, object], module._validHosts).clear()


def receive(
    module: ModuleType, pieces: list[bytes], limits: Limits, draining: bool
) -> list[object]:
    """
    Feed C{pieces} to C{module}'s L{splitHead} and L{parseHead} as the
    channel does: each head found is read and taken off the buffer, and the
    next is found in what is left, until one is refused.

    @return: what each call gave, in order.
    """
    events: list[object] = []
    buffer, started = b"", False
    for piece in pieces:
        buffer += piece
        while buffer:
            try:
                found = module.splitHead(buffer, limits, started)
                events.append(found)
                if found is None:
                    started = True
                    break
                head, consumed = found
                buffer, started = buffer[consumed:], False
                events.append(module.parseHead(head, limits, draining))
            except Refusal as e:
                events.append(Refused(e.status, e.bodyless))
                return events
    return events


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """
    @return: C{data} cut at C{points} (taken modulo its length, plus one).
    """
    edges = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in zip(edges, edges[1:])] or [b""]


#: Heads whose every byte L{SameAsBeforeTests.test_everyByte} varies: each
#: rule of the request line, the fields and Host is met in one of them.
_SEEDS = [
    b"GET / HTTP/1.1\r\nHost: localhost:8880",
    b"GET /now?tz=UTC HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\nAccept: */*",
    b"HEAD http://a/b?c HTTP/1.0\r\nhost:\t[::1]:80 \r\nAccept: */*",
    b"POST /timesync HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nX: y\r\n z",
    b"PUT * HTTP/1.2\r\nHost: 1.2.3.4\r\nTransfer-Encoding: chunked",
    b"GET /now HTTP/1.1\r\nHost: a\r\nConnection: close\r\nExpect: 100-continue",
]


class SameAsBeforeTests(SynchronousTestCase):
    """
    The parser reads every head as the regular-expression parser did.
    """

    def assertSame(self, call: Callable[[ModuleType], object]) -> None:
        """
        C{call} gives the same with the parser as with the old one, with
        their caches empty and then full.
        """
        for module in (_grammar, _oldgrammar):
            forget(module)
        before = outcome(lambda: call(_oldgrammar))
        self.assertEqual(outcome(lambda: call(_grammar)), before)
        self.assertEqual(outcome(lambda: call(_grammar)), before)

    @settings(max_examples=EXAMPLES)
    @given(
        head=heads(),
        ending=_ENDINGS,
        leading=st.sampled_from([b"", b"\r\n", b"\n", b"\r\n\r\n"]),
        after=st.sampled_from([b"", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"\r\n"])
        | st.binary(max_size=8),
        points=st.lists(st.integers(0, 10**6), max_size=4),
        limits=_LIMITS,
        draining=st.booleans(),
    )
    @example(
        head=b"GET / HTTP/1.1\r\nHost: localhost:8880",
        ending=b"\r\n\r\n",
        leading=b"",
        after=b"",
        points=[],
        limits=Limits(maxConnections=100),
        draining=False,
    )
    def test_received(
        self,
        head: bytes,
        ending: bytes,
        leading: bytes,
        after: bytes,
        points: list[int],
        limits: Limits,
        draining: bool,
    ) -> None:
        """
        Heads received in pieces are found, read and refused alike: the same
        head at the same byte, the same L{RequestHead}, the same status.
        """
        pieces = cut(leading + head + ending + after, points)
        self.assertSame(lambda module: receive(module, pieces, limits, draining))

    @settings(max_examples=EXAMPLES)
    @given(head=heads(), limits=_LIMITS, draining=st.booleans())
    def test_parsed(self, head: bytes, limits: Limits, draining: bool) -> None:
        """
        Any bytes given to L{parseHead} as a head, even what L{splitHead}
        would refuse, are read or refused alike.
        """
        self.assertSame(lambda module: module.parseHead(head, limits, draining))

    @settings(max_examples=EXAMPLES)
    @given(
        hosts=st.lists(_HOSTS, max_size=2),
        version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2"]),
        target=_TARGETS,
    )
    def test_hostsAndTargets(
        self, hosts: list[bytes], version: bytes, target: bytes
    ) -> None:
        """
        L{validHost} and L{visibleTarget}, which HTTP/2's requests are held
        to too, judge any bytes alike.
        """
        self.assertSame(lambda module: bool(module.validHost(hosts, version)))
        self.assertSame(lambda module: module.visibleTarget(target))

    @settings(max_examples=EXAMPLES)
    @given(host=hostParts())
    def test_hosts(self, host: bytes) -> None:
        """
        Any Host value made of the pieces of its rule is judged alike.
        """
        self.assertSame(lambda module: bool(module.validHost([host], b"HTTP/1.1")))

    def test_everyByte(self) -> None:
        """
        Each byte of a few heads, replaced by each of the 256, or deleted,
        or with a byte of those that matter to the grammar inserted before
        it, gives the same: the same head found and read, or the same
        refusal.
        """
        limits = Limits(maxConnections=100)
        sharp = [b"\r", b"\n", b" ", b"\t", b":", b"\x00", b"\x7f", b"\x80", b"["]
        for module in (_grammar, _oldgrammar):
            forget(module)
        for head in _SEEDS:
            variants = [head]
            for at in range(len(head)):
                variants.append(head[:at] + head[at + 1 :])
                variants.extend(head[:at] + byte + head[at:] for byte in sharp)
                variants.extend(
                    head[:at] + bytes([byte]) + head[at + 1 :] for byte in range(256)
                )
            for variant in variants:
                self.assertEqual(
                    readings(_grammar, variant, limits),
                    readings(_oldgrammar, variant, limits),
                    variant,
                )
