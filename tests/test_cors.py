"""
Tests for C{OPTIONS} and the CORS preflight
(L{clocksvc._web._resource.answerOptions}): every public endpoint of the
route table answers one, in memory and over a real socket, and the
operator's endpoints do not. A real browser on another origin is in
C{tests.e2e.test_cors}.
"""

from __future__ import annotations

import treq
from hypothesis import given
from hypothesis import strategies as st
from treq.response import _Response
from twisted.internet import reactor
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool

from clocksvc import listen
from clocksvc._http import isToken
from clocksvc._web._resource import (
    MAX_PREFLIGHT_HEADERS,
    preflightFields,
    requestedHeaders,
)
from clocksvc._web._routes import OPERATOR_PATHS, ROUTES, Route, openAPIDocument
from clocksvc._web._site import buildSite

from ._helpers import BILLENNIUM, clockAt, stubTreq, urlOf
from ._openapi import validateResponse

#: What Chromium sends before C{fetch(url, {headers: {"X-Foo": "1"}})} from
#: another origin (with the method of the request it means to send).
PREFLIGHT: dict[bytes | str, bytes | str] = {
    "Origin": "http://page.example",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "x-foo",
}


def pathOf(route: Route) -> str:
    """
    @return: a path that C{route} serves: its first in C{/openapi.json},
        which has no parameters.
    """
    path = route.paths[0]
    assert "{" not in path, path
    return path


def methodsOf(path: str) -> list[bytes]:
    """
    @return: the methods C{/openapi.json} documents for C{path}, but
        C{OPTIONS}, in its order: what a preflight's answer allows.
    """
    item = openAPIDocument()["paths"][path]
    return [method.upper().encode() for method in item if method != "options"]


class RequestedHeadersTests(SynchronousTestCase):
    """
    L{requestedHeaders} reads C{Access-Control-Request-Headers} for the
    answer to echo, within bounds.
    """

    def test_echoed(self) -> None:
        """
        The names, as browsers send them, are echoed with a space after each
        comma.
        """
        self.assertEqual(
            requestedHeaders([b"content-type,x-foo"]), b"content-type, x-foo"
        )

    def test_listRules(self) -> None:
        """
        Names in any case, on several lines, with white space and empty
        elements, give each name once, in lower case.
        """
        self.assertEqual(
            requestedHeaders([b" X-Foo ,, \tx-foo", b"Content-Type,"]),
            b"x-foo, content-type",
        )

    def test_none(self) -> None:
        """
        No field, or one without names, allows no header.
        """
        self.assertIsNone(requestedHeaders([]))
        self.assertIsNone(requestedHeaders([b""]))
        self.assertIsNone(requestedHeaders([b" , "]))

    def test_notFieldNames(self) -> None:
        """
        A list with anything but field names in it allows none of them:
        nothing that is not a token is echoed.
        """
        for value in [
            b"x-foo, x bar",
            b"x-foo:1",
            b"x-\xff",
            b'x-"quoted"',
            b"x-foo;q=1",
        ]:
            self.assertIsNone(requestedHeaders([value]), value)

    @given(
        st.lists(
            # Mostly token bytes, so that long tokens come too.
            st.sampled_from(b"aZ09-!~`|") | st.integers(0, 255),
            min_size=1,
            max_size=70,
        )
        .map(bytes)
        # A comma separates names, and white space around one is dropped.
        .filter(lambda name: b"," not in name and name.strip(b" \t") == name)
    )
    def test_sameRuleAsTheHTTPLayer(self, name: bytes) -> None:
        """
        A name is allowed exactly where the HTTP layer reads it as a field
        name (its one token rule, L{isToken}), up to 64 characters.
        """
        expected = name.lower() if len(name) <= 64 and isToken(name) else None
        self.assertEqual(requestedHeaders([name]), expected)

    def test_bounded(self) -> None:
        """
        At most L{MAX_PREFLIGHT_HEADERS} names of at most 64 characters
        each: so the echo is at most 2,110 bytes.
        """
        names = [b"x-%062d" % (i,) for i in range(MAX_PREFLIGHT_HEADERS)]
        self.assertEqual({len(name) for name in names}, {64})
        echo = requestedHeaders([b",".join(names)])
        assert echo is not None
        self.assertEqual(len(echo), 2110)
        self.assertIsNone(requestedHeaders([b",".join([*names, b"x-one-more"])]))
        self.assertIsNone(requestedHeaders([b"x" * 65]))
        # The same name again counts once.
        self.assertEqual(requestedHeaders([b",".join(names + names)]), echo)


class PreflightFieldsTests(SynchronousTestCase):
    """
    L{preflightFields} are the answer's C{Access-Control-Allow-*} fields.
    """

    def test_fields(self) -> None:
        """
        Any origin may send the methods, with the headers asked for, and
        keep the answer for a day.
        """
        self.assertEqual(
            preflightFields([b"GET", b"HEAD"], [b"x-foo"]),
            (
                (b"Access-Control-Allow-Origin", b"*"),
                (b"Access-Control-Allow-Methods", b"GET, HEAD"),
                (b"Access-Control-Max-Age", b"86400"),
                (b"Access-Control-Allow-Headers", b"x-foo"),
            ),
        )

    def test_noHeaders(self) -> None:
        """
        Without headers asked for (or with ones that are not allowed), the
        answer allows none.
        """
        self.assertEqual(
            preflightFields([b"POST"]),
            (
                (b"Access-Control-Allow-Origin", b"*"),
                (b"Access-Control-Allow-Methods", b"POST"),
                (b"Access-Control-Max-Age", b"86400"),
            ),
        )


class EveryRouteTests(SynchronousTestCase):
    """
    Every public route of L{ROUTES} answers C{OPTIONS} and the CORS
    preflight, as C{/openapi.json} says; the operator's answer 405. A route
    added to the table is covered here without a word.
    """

    def setUp(self) -> None:
        self.treq = stubTreq(buildSite(clockAt(BILLENNIUM)).resource)

    def options(
        self, path: str, headers: dict[bytes | str, bytes | str]
    ) -> tuple[_Response, bytes]:
        response = self.successResultOf(
            self.treq.request("OPTIONS", "http://clock.example" + path, headers=headers)
        )
        body = self.successResultOf(response.content())
        [contentType] = response.headers.getRawHeaders(b"content-type", [None])
        validateResponse(
            "OPTIONS",
            path,
            response.code,
            None if contentType is None else contentType.decode(),
            body,
        )
        return response, body

    def test_preflight(self) -> None:
        """
        A preflight to a public route is 204 with no body: any origin may
        send the methods the route allows, with the header it asked for,
        and keep the answer for a day.
        """
        public = [route for route in ROUTES if not route.admin]
        self.assertGreater(len(public), 10)
        for route in public:
            path = pathOf(route)
            methods = methodsOf(path)
            response, body = self.options(
                path,
                {**PREFLIGHT, "Access-Control-Request-Method": methods[0].decode()},
            )
            headers = response.headers
            self.assertEqual((response.code, body), (204, b""), path)
            self.assertIsNone(headers.getRawHeaders(b"content-length"), path)
            self.assertEqual(
                headers.getRawHeaders(b"allow"), [b", ".join([*methods, b"OPTIONS"])]
            )
            for name, value in [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-methods", b", ".join(methods)),
                (b"access-control-allow-headers", b"x-foo"),
                (b"access-control-max-age", b"86400"),
            ]:
                self.assertEqual(headers.getRawHeaders(name), [value], (path, name))

    def test_plainOptions(self) -> None:
        """
        C{OPTIONS} without C{Origin} and C{Access-Control-Request-Method} is
        not a preflight: 204 with C{Allow}, and no CORS fields but those
        the route's answers always carry.
        """
        for route in ROUTES:
            if route.admin:
                continue
            path = pathOf(route)
            response, _ = self.options(path, {"Access-Control-Request-Headers": "x"})
            self.assertEqual(response.code, 204, path)
            self.assertEqual(
                response.headers.getRawHeaders(b"allow"),
                [b", ".join([*methodsOf(path), b"OPTIONS"])],
            )
            self.assertIsNone(
                response.headers.getRawHeaders(b"access-control-allow-methods"), path
            )
            self.assertIsNone(
                response.headers.getRawHeaders(b"access-control-allow-headers"), path
            )

    def test_operators(self) -> None:
        """
        The operator's routes answer no preflight: 405, C{Allow: GET, HEAD},
        and nothing that lets another origin in. They are the paths that
        C{/openapi.json} gives no C{OPTIONS}.
        """
        operators = [route for route in ROUTES if route.admin]
        self.assertEqual(
            sorted(path for route in operators for path in route.paths),
            sorted(OPERATOR_PATHS),
        )
        for route in operators:
            path = pathOf(route)
            response, _ = self.options(path, PREFLIGHT)
            self.assertEqual(response.code, 405, path)
            self.assertEqual(response.headers.getRawHeaders(b"allow"), [b"GET, HEAD"])
            self.assertIsNone(
                response.headers.getRawHeaders(b"access-control-allow-origin"), path
            )
            self.assertNotIn("options", openAPIDocument()["paths"][path])

    def test_belowAnEndpoint(self) -> None:
        """
        Paths below a public route that name a resource of it (a zone)
        answer the preflight too.
        """
        for path in ["/api/timezone/Europe/Berlin", "/api/timezone/europe/berlin.txt"]:
            response, _ = self.options(path, PREFLIGHT)
            self.assertEqual(response.code, 204, path)
            self.assertEqual(
                response.headers.getRawHeaders(b"access-control-allow-headers"),
                [b"x-foo"],
            )

    def test_refusedHeaders(self) -> None:
        """
        A preflight asking for headers that are not field names is answered
        without C{Access-Control-Allow-Headers}, so the browser does not
        send the request; the methods are still allowed.
        """
        response, _ = self.options(
            "/now", {**PREFLIGHT, "Access-Control-Request-Headers": "x-foo, <b>"}
        )
        self.assertEqual(response.code, 204)
        self.assertIsNone(
            response.headers.getRawHeaders(b"access-control-allow-headers")
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"access-control-allow-methods"),
            [b"GET, HEAD"],
        )


class NetworkTests(TestCase):
    """
    Over a real socket, with treq: a preflight to every public route.
    """

    def setUp(self) -> None:
        # A pool without persistent connections leaves no socket open for
        # trial's clean-reactor check.
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(self.pool.closeCachedConnections)
        port = listen(0, "127.0.0.1", wallClock=clockAt(BILLENNIUM))
        self.addCleanup(port.stopListening)
        self.url = urlOf(port, "")

    async def test_now(self) -> None:
        """
        C{OPTIONS /now} with C{Access-Control-Request-Headers: x-foo}, which
        was 405, is 204, allowing the header.
        """
        response = await treq.request(
            "OPTIONS", self.url + "/now", headers=PREFLIGHT, pool=self.pool
        )
        self.assertEqual(response.code, 204)
        self.assertEqual(await response.content(), b"")
        headers = response.headers
        self.assertEqual(headers.getRawHeaders(b"access-control-allow-origin"), [b"*"])
        self.assertEqual(
            headers.getRawHeaders(b"access-control-allow-methods"), [b"GET, HEAD"]
        )
        self.assertEqual(
            headers.getRawHeaders(b"access-control-allow-headers"), [b"x-foo"]
        )
        self.assertEqual(headers.getRawHeaders(b"access-control-max-age"), [b"86400"])
        self.assertEqual(headers.getRawHeaders(b"allow"), [b"GET, HEAD, OPTIONS"])

    async def test_everyRoute(self) -> None:
        """
        Every public route answers the preflight over the network as in
        memory.
        """
        for route in ROUTES:
            if route.admin:
                continue
            path = pathOf(route)
            response = await treq.request(
                "OPTIONS", self.url + path, headers=PREFLIGHT, pool=self.pool
            )
            self.assertEqual(response.code, 204, path)
            self.assertEqual(await response.content(), b"")
            self.assertEqual(
                response.headers.getRawHeaders(b"access-control-allow-headers"),
                [b"x-foo"],
                path,
            )
