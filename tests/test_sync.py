"""
Tests for L{clocksvc._web._sync}: the npm timesync protocol and
C{/.well-known/time}.
"""

from __future__ import annotations

import json

from treq.response import _Response
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._web._site import buildRoot
from clocksvc._web._sync import MAX_TIMESYNC_BODY

from ._helpers import BILLENNIUM, clockAt, stubTreq, synchronized
from ._openapi import validateResponse

# A fraction that floats hold exactly, so rounding to milliseconds is known.
INSTANT = BILLENNIUM + 0.25
URL = "http://clock.example"


class SyncTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = clockAt(INSTANT)
        self.treq = stubTreq(buildRoot(self.clock, readClock=synchronized))

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[_Response, bytes]:
        """
        Make a request and check the answer against the OpenAPI description.

        @param headers: its headers but C{Content-Type: application/json},
            which every request has.
        """
        response = self.successResultOf(
            self.treq.request(
                method,
                URL + path,
                data=body,
                headers={"Content-Type": "application/json", **(headers or {})},
            )
        )
        content = self.successResultOf(response.content())
        [contentType] = response.headers.getRawHeaders(b"content-type", [b""])
        validateResponse(method, path, response.code, contentType.decode(), content)
        return response, content


class TimesyncTests(SyncTestCase):
    """
    C{POST /timesync} answers as the npm timesync server does.
    """

    def call(self, body: object) -> tuple[_Response, bytes]:
        return self.request("POST", "/timesync", json.dumps(body).encode())

    def test_answer(self) -> None:
        """
        A timesync call is answered with the same id and the server's time
        in whole milliseconds, as JSON, which the timesync client checks.
        """
        response, body = self.call({"jsonrpc": "2.0", "id": "1", "method": "timesync"})
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.headers.getRawHeaders(b"content-type"),
            [b"application/json; charset=utf-8"],
        )
        self.assertEqual(
            body,
            b'{"jsonrpc":"2.0","id":"1","clock_synchronized":true,'
            b'"clock_max_error_ms":1.25,"result":1000000000250}',
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"access-control-allow-origin"), [b"*"]
        )

    def test_ids(self) -> None:
        """
        Ids of every JSON type are echoed as they came; without one, the id
        is null, as the npm server answers.
        """
        for id in ["abc", 7, 7.5, None, True, [1, "x"], {"n": 1}, ""]:
            _, body = self.call({"jsonrpc": "2.0", "id": id, "method": "timesync"})
            self.assertEqual(json.loads(body)["id"], id)
        _, body = self.call({"jsonrpc": "2.0", "method": "timesync"})
        self.assertEqual(
            json.loads(body),
            {
                "jsonrpc": "2.0",
                "id": None,
                "clock_synchronized": True,
                "clock_max_error_ms": 1.25,
                "result": 1000000000250,
            },
        )

    def test_paramsIgnored(self) -> None:
        """
        C{params}, which some clients send, changes nothing.
        """
        _, body = self.call(
            {"jsonrpc": "2.0", "id": 3, "method": "timesync", "params": [1]}
        )
        self.assertEqual(json.loads(body)["result"], 1000000000250)

    def test_followsClock(self) -> None:
        """
        The result is the clock's time, rounded to the millisecond.
        """
        self.clock.advance(0.0006)
        _, body = self.call({"jsonrpc": "2.0", "id": 1, "method": "timesync"})
        self.assertEqual(json.loads(body)["result"], 1000000000251)

    def test_badBodies(self) -> None:
        """
        Anything but a JSON-RPC 2.0 timesync call is 400 with a JSON error.
        """
        for body in [
            b"",
            b"not json",
            b"[]",
            b'"timesync"',
            b'{"jsonrpc": "2.0", "id": 1}',
            b'{"jsonrpc": "2.0", "id": 1, "method": "other"}',
            b'{"jsonrpc": "1.0", "id": 1, "method": "timesync"}',
            b'{"id": 1, "method": "timesync"}',
            # Deep enough for json to give up with RecursionError, yet under
            # the 64 KiB limit.
            b"[" * 60_000,
            b"\xff\xfe",
        ]:
            response, content = self.request("POST", "/timesync", body)
            self.assertEqual(response.code, 400, body[:40])
            self.assertEqual(
                json.loads(content),
                {
                    "error": 'expected {"jsonrpc": "2.0", "id": ..., '
                    '"method": "timesync"}'
                },
            )

    def test_tooLarge(self) -> None:
        """
        A body over 64 KiB is 413, unread past the limit.
        """
        body = b" " * MAX_TIMESYNC_BODY + b'{"jsonrpc": "2.0", "method": "timesync"}'
        response, content = self.request("POST", "/timesync", body)
        self.assertEqual(response.code, 413)
        self.assertEqual(json.loads(content), {"error": "request body too large"})

    def test_preflight(self) -> None:
        """
        A CORS preflight is answered so that pages elsewhere may POST JSON,
        as the timesync client does.
        """
        response, body = self.request(
            "OPTIONS",
            "/timesync",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        self.assertEqual(response.code, 204)
        self.assertEqual(body, b"")
        headers = response.headers
        self.assertEqual(headers.getRawHeaders(b"allow"), [b"POST, OPTIONS"])
        self.assertEqual(headers.getRawHeaders(b"access-control-max-age"), [b"86400"])
        self.assertEqual(headers.getRawHeaders(b"access-control-allow-origin"), [b"*"])
        self.assertEqual(
            headers.getRawHeaders(b"access-control-allow-methods"), [b"POST"]
        )
        self.assertEqual(
            headers.getRawHeaders(b"access-control-allow-headers"), [b"content-type"]
        )
        self.assertIsNone(headers.getRawHeaders(b"content-length"))

    def test_otherMethods(self) -> None:
        """
        GET and the rest are 405, naming POST and OPTIONS.
        """
        for method in ["GET", "HEAD", "PUT", "DELETE"]:
            response, _ = self.request(method, "/timesync")
            self.assertEqual(response.code, 405, method)
            self.assertEqual(
                response.headers.getRawHeaders(b"allow"), [b"POST, OPTIONS"]
            )


class WellKnownTimeTests(SyncTestCase):
    """
    C{/.well-known/time} answers 204 with the time in C{X-HTTPSTIME}.
    """

    def test_get(self) -> None:
        """
        GET is 204 with the time to the microsecond in C{X-HTTPSTIME}, and a
        C{Date} from the same clock; no body, no length.
        """
        response, body = self.request("GET", "/.well-known/time")
        self.assertEqual((response.code, body), (204, b""))
        headers = response.headers
        self.assertEqual(headers.getRawHeaders(b"x-httpstime"), [b"1000000000.250000"])
        # 1e9 seconds after the epoch, as an HTTP date.
        self.assertEqual(
            headers.getRawHeaders(b"date"), [b"Sun, 09 Sep 2001 01:46:40 GMT"]
        )
        self.assertIsNone(headers.getRawHeaders(b"content-length"))
        self.assertEqual(headers.getRawHeaders(b"cache-control"), [b"no-store"])
        self.assertEqual(
            headers.getRawHeaders(b"access-control-expose-headers"),
            [b"x-httpstime, date, clock-status"],
        )
        self.assertEqual(
            headers.getRawHeaders(b"clock-status"), [b"sync=?1, max-error=1.25"]
        )

    def test_head(self) -> None:
        """
        HEAD answers the same.
        """
        response, _ = self.request("HEAD", "/.well-known/time")
        self.assertEqual(response.code, 204)
        self.assertEqual(
            response.headers.getRawHeaders(b"x-httpstime"), [b"1000000000.250000"]
        )

    def test_otherWellKnown(self) -> None:
        """
        Nothing else is under C{/.well-known}.
        """
        response, body = self.request("GET", "/.well-known/security.txt")
        self.assertEqual(response.code, 404)
        self.assertEqual(json.loads(body), {"error": "not found"})
