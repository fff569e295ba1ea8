"""
Tests for L{clocksvc._web._answer} and the dispatcher of
L{clocksvc._web._quick}: both paths ask a resource the same L{Ask}, and
write its L{Answer} the same way; and what the quick path keeps, it keeps
within bounds.
"""

from __future__ import annotations

from io import BytesIO
from typing import cast
from zoneinfo import ZoneInfo

from twisted.internet.address import IPv4Address
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.static import Data
from twisted.web.test.requesthelper import DummyRequest

from clocksvc import ClockPage
from clocksvc._http import QuickHead
from clocksvc._time import ZoneCatalogue, defaultCatalogue
from clocksvc._web._answer import (
    Answer,
    Answering,
    Ask,
    Fields,
    applyAnswer,
    askOf,
    queryArgs,
    queryNames,
)
from clocksvc._web._api import Now, zoneNamed
from clocksvc._web._quick import QuickAnswers
from clocksvc._web._resource import MethodResource

from ._helpers import BILLENNIUM, clockAt, useTimezone
from .test_fastpath import Server

CLIENT = IPv4Address("TCP", "192.0.2.7", 4711)


def asRequest(request: DummyRequest) -> IRequest:
    """
    @return: C{request}: Twisted's fake provides what of L{IRequest} these
        tests use, though it does not declare it.
    """
    return cast(IRequest, request)


class Probe(MethodResource):
    """
    A leaf that answers with what it was asked, in fields made anew for
    each answer; or, for C{?none}, with L{None}, to be rendered.
    """

    isLeaf = True
    allowedMethods = (b"GET", b"HEAD", b"POST")

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Ask] = []

    def answerAllowed(self, ask: Ask) -> Answer | None:
        self.asked.append(ask)
        if ask.query == b"none":
            return None
        fields: Fields = ((b"X-Asked", b"%d" % len(self.asked)),)
        return Answer(200, fields, repr(ask.path).encode() + ask.body)

    def render_GET(self, request: IRequest) -> bytes:
        return b"rendered"


def probed(fast: bool) -> tuple[Server, Probe]:
    """
    @return: a server with a L{Probe} at C{/probe}, with or without its
        quick answers; and the probe.
    """
    server = Server(fast)
    probe = Probe()
    root = server.site.resource
    assert isinstance(root, Resource)
    root.putChild(b"probe", probe)
    return server, probe


class AskTests(SynchronousTestCase):
    """
    The quick path and the general one ask a resource the same.
    """

    def test_same(self) -> None:
        """
        The method, the path below the resource (each segment unescaped, as
        Twisted unescapes it), the query as sent, C{Accept}, the client and
        the body, alike from both paths.
        """
        requests = [
            b"GET /probe HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /probe/ HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n",
            b"HEAD /probe/a%2Fb/c%20d?x=1+2&y;z HTTP/1.1\r\nHost: a\r\n\r\n",
            b"POST /probe?q HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody",
        ]
        asked = []
        for fast in (True, False):
            server, probe = probed(fast)
            server.exchange(requests, CLIENT)
            self.assertEqual(len(server.quick), 4 if fast else 0)
            asked.append(probe.asked)
        self.assertEqual(asked[0], asked[1])
        self.assertEqual(
            [(ask.method, ask.path, ask.query, ask.accept) for ask in asked[0]],
            [
                (b"GET", (), b"", None),
                (b"GET", (b"",), b"", b"text/plain"),
                (b"HEAD", (b"a/b", b"c d"), b"x=1+2&y;z", None),
                (b"POST", (), b"q", None),
            ],
        )
        self.assertEqual({ask.client for ask in asked[0]}, {CLIENT})
        self.assertEqual([ask.body for ask in asked[0]], [b"", b"", b"", b"body"])

    def test_none(self) -> None:
        """
        A resource that answers L{None} is rendered by the general path:
        the quick one steps aside.
        """
        server, probe = probed(True)
        response, _ = server.exchange(
            [b"GET /probe?none HTTP/1.1\r\nHost: a\r\n\r\n"], CLIENT
        )
        self.assertEqual(server.quick, [])
        self.assertTrue(response.endswith(b"\r\n\r\nrendered"), response)
        # Asked twice: by the quick path, then by the general one.
        self.assertEqual(len(probe.asked), 2)

    def test_askOf(self) -> None:
        """
        L{askOf} reads a request as Twisted traversed it.
        """
        request = DummyRequest([b"a", b"b"])
        request.uri = b"/x/a/b?tz=UTC"
        request.method = b"POST"
        request.requestHeaders.setRawHeaders(b"accept", [b"text/plain"])
        request.client = CLIENT
        # DummyRequest has no body; Twisted's requests have theirs here.
        vars(request)["content"] = BytesIO(b"call")
        self.assertEqual(
            askOf(asRequest(request)),
            Ask(
                b"POST",
                (b"a", b"b"),
                b"tz=UTC",
                b"text/plain",
                CLIENT,
                b"call",
            ),
        )


class QueryTests(SynchronousTestCase):
    """
    A query is read as Twisted reads it, once for each distinct query, and
    what is kept of queries is bounded.
    """

    def test_args(self) -> None:
        """
        Bare names are left out, C{+} and C{%} escapes are undone, and C{;}
        separates as C{&} does; each value of a name in order.
        """

        def ask(query: bytes) -> Ask:
            return Ask(b"GET", (), query, None, None)

        self.assertEqual(
            queryArgs(ask(b"iso&tz=Etc%2FGMT+5;tz=b&t1=")),
            {b"tz": [b"Etc/GMT 5", b"b"], b"t1": [b""]},
        )
        self.assertEqual(queryArgs(ask(b"")), {})
        # As time.akamai.com's clients write them: only & separates names.
        self.assertEqual(queryNames(ask(b"iso&ms=1;x")), {b"iso", b"ms"})

    def test_bounded(self) -> None:
        """
        However many distinct queries, however long, each is read right,
        and what is kept stays within its bound.
        """
        from clocksvc._web import _answer

        for n in range(600):
            query = b"n=%d" % n
            ask = Ask(b"GET", (), query, None, None)
            self.assertEqual(queryArgs(ask), {b"n": [b"%d" % n]})
            self.assertEqual(queryNames(ask), {b"n"})
        long = Ask(b"GET", (), b"x=" + b"y" * 5000, None, None)
        self.assertEqual(queryArgs(long), {b"x": [b"y" * 5000]})
        self.assertEqual(queryNames(long), {b"x"})
        self.assertLessEqual(len(_answer._parsed), 256)
        self.assertLessEqual(len(_answer._named), 256)
        self.assertNotIn(long.query, _answer._parsed)


class AnswerTests(SynchronousTestCase):
    """
    L{Answer}: its reason phrase, and how the general path applies it.
    """

    def test_phrase(self) -> None:
        """
        Twisted's phrase for the status, or the answer's own where Twisted
        has none.
        """
        self.assertEqual(Answer(404, ()).phrase(), b"Not Found")
        self.assertEqual(Answer(599, ()).phrase(), b"Unknown Status")
        self.assertEqual(
            Answer(422, (), reason=b"Unprocessable Content").phrase(),
            b"Unprocessable Content",
        )

    def test_applied(self) -> None:
        """
        The status, the date, the fields in order, then those that change;
        the body, but none to a C{HEAD}, whose length is set.
        """
        for method, body in [(b"GET", b"body"), (b"HEAD", b"")]:
            request = DummyRequest([])
            request.method = method
            answer = Answer(
                201, ((b"B", b"1"), (b"A", b"2")), b"body", ((b"C", b"3"),), BILLENNIUM
            )
            self.assertEqual(applyAnswer(asRequest(request), answer), body)
            self.assertEqual(request.responseCode, 201)
            fields = list(request.responseHeaders.getAllRawHeaders())
            self.assertEqual(
                fields[:4],
                [
                    (b"Date", [b"Sun, 09 Sep 2001 01:46:40 GMT"]),
                    (b"B", [b"1"]),
                    (b"A", [b"2"]),
                    (b"C", [b"3"]),
                ],
            )


class ClockPageTests(SynchronousTestCase):
    """
    The public L{ClockPage}, mounted anywhere, renders as the lesson's does.
    """

    def test_renderGet(self) -> None:
        """
        Its C{render_GET}, as the lesson calls it, gives the page.
        """
        useTimezone(self, "UTC")
        request = DummyRequest([])
        body = ClockPage(clockAt(BILLENNIUM)).render_GET(asRequest(request))
        self.assertEqual(body, b"<html><body>Sun Sep  9 01:46:40 2001</body></html>")
        self.assertEqual(
            request.responseHeaders.getRawHeaders(b"cache-control"), [b"no-store"]
        )


class DispatcherTests(SynchronousTestCase):
    """
    The quick path keeps where each path leads while the tree stays the
    same, and the heads of answers for the second, within bounds.
    """

    def test_mountedLater(self) -> None:
        """
        A resource mounted after a path was answered answers it: the quick
        path steps aside for it.
        """
        server = Server(True)
        request = [b"GET /now HTTP/1.1\r\nHost: a\r\n\r\n"]
        server.exchange(request)
        self.assertEqual(len(server.quick), 1)
        root = server.site.resource
        assert isinstance(root, Answering)
        root.putChild(b"now", Data(b"mine", "text/plain"))
        response, _ = server.exchange(request)
        self.assertEqual(len(server.quick), 1)
        self.assertTrue(response.endswith(b"\r\n\r\nmine"), response)

    def test_manyPaths(self) -> None:
        """
        However many distinct paths, however long, each is answered, and the
        traversals kept stay within their bound.
        """
        clock = clockAt(BILLENNIUM)
        root = Resource()
        probe = Probe()
        quick = QuickAnswers(clock, _Root(probe))
        del root
        for n in range(1100):
            head = QuickHead(b"GET", b"/probe/%d" % n, None, None)
            response = quick.answer(head, CLIENT)
            assert response is not None
            self.assertTrue(response.data.endswith(b"(b'%d',)" % n))
        long = b"/probe/" + b"x" * 300
        response = quick.answer(QuickHead(b"GET", long, None, None), CLIENT)
        assert response is not None
        self.assertEqual(response.status, 200)
        self.assertLessEqual(len(quick._routes), QuickAnswers._ROUTES_KEPT)
        self.assertNotIn(long, quick._routes)
        # Each answer had fields of its own: the heads kept stay bounded.
        self.assertLessEqual(len(quick._heads), QuickAnswers._HEADS_KEPT)

    def test_notAPath(self) -> None:
        """
        A target that is not a path, C{*} or in absolute form, is the
        general path's.
        """
        quick = QuickAnswers(clockAt(BILLENNIUM), _Root(Probe()))
        for target in [b"*", b"http://a/probe"]:
            self.assertIsNone(
                quick.answer(QuickHead(b"GET", target, None, None), CLIENT)
            )


class _Root(Answering):
    """
    A root with one child, at C{probe}, and nothing else.
    """

    def __init__(self, probe: Probe) -> None:
        super().__init__()
        self.putChild(b"probe", probe)

    def missing(self, segment: bytes) -> Resource:
        return Data(b"", "text/plain")


class ZoneNamedTests(SynchronousTestCase):
    """
    L{zoneNamed}: a zone by a name in any letter case, kept within bounds.
    """

    def test_bounded(self) -> None:
        """
        Every zone, by its name in three letter cases, more than are kept:
        each is found, and what is kept stays within its bound.
        """
        from clocksvc._web import _api

        catalogue = defaultCatalogue
        for name in catalogue.names():
            for spelt in (name, name.lower(), name.upper()):
                zone = zoneNamed(catalogue, spelt)
                assert zone is not None, spelt
                self.assertEqual(zone.key, name)
        self.assertIsNone(zoneNamed(catalogue, "Nowhere/Atlantis"))
        self.assertIsNone(zoneNamed(catalogue, "../etc"))
        self.assertLessEqual(len(_api._zonesNamed), _api._ZONES_KEPT)

    def test_anotherCatalogue(self) -> None:
        """
        A name kept for one catalogue is looked up again in another.
        """
        self.assertIsNotNone(zoneNamed(defaultCatalogue, "Europe/Berlin"))
        self.assertIsNone(zoneNamed(ZoneCatalogue(["UTC"]), "Europe/Berlin"))


class UnknownClockTests(SynchronousTestCase):
    """
    A time resource without the server clock's state says it is unknown.
    """

    def test_unknown(self) -> None:
        """
        Its C{Clock-Status} is that of a clock whose state cannot be read.
        """
        now = Now(clockAt(BILLENNIUM), defaultCatalogue, ZoneInfo("UTC"))
        self.assertEqual(now.clockStatus(), b"sync=?0")
        answer = now.answer(Ask(b"GET", (), b"", None, None))
        assert answer is not None
        self.assertIn((b"Clock-Status", b"sync=?0"), answer.fields)
