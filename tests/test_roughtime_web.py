"""
Tests for L{clocksvc._web._signedtime}: C{/roughtime.json}, the Roughtime
server's delegation in C{/healthz}, and its counts in C{/metrics}.
"""

from __future__ import annotations

import base64
import json

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._roughtime._wire import request
from clocksvc._web import RoughtimeService
from clocksvc._web._site import buildSite

from ._helpers import BILLENNIUM, clockAt, stubTreq
from ._roughtime import roughtimeService

URL = "http://time.example.com:8080"


class ServerListTests(SynchronousTestCase):
    """
    C{/roughtime.json} is RFC 10049's server list of this server.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM)
        self.service = roughtimeService(self.clock)

    def get(
        self, service: RoughtimeService | None, path: str, **kwargs: object
    ) -> tuple[int, dict[str, object], object]:
        site = buildSite(self.clock, roughtime=service)
        response = self.successResultOf(
            stubTreq(site.resource).get(URL + path, **kwargs)
        )
        body = json.loads(self.successResultOf(response.content()))
        return response.code, body, response.headers

    def test_list(self) -> None:
        """
        The server, its key in base64, and its port with the host the page
        was asked for by, when it listens on every interface.
        """
        code, body, headers = self.get(self.service, "/roughtime.json")
        self.assertEqual(code, 200)
        self.assertEqual(
            headers.getRawHeaders("content-type"),  # type: ignore[attr-defined]
            ["application/roughtime-server+json"],
        )
        key = base64.b64encode(self.service.responder.publicKey).decode()
        self.assertEqual(
            body,
            {
                "servers": [
                    {
                        "name": "clocksvc",
                        "version": 1,
                        "publicKeyType": "ed25519",
                        "publicKey": key,
                        "addresses": [
                            {"protocol": "udp", "address": "time.example.com:2002"}
                        ],
                    }
                ]
            },
        )

    def test_addresses(self) -> None:
        """
        An address listened on is published as it is; a Host that is not a
        plain host gives way to the address the request arrived on.
        """
        service = RoughtimeService(
            self.service.responder,
            [("udp", "[2001:db8::1]:2002", 2002), ("tcp", None, 2003)],
        )
        _, body, _ = self.get(service, "/roughtime.json", headers={"Host": "a b"})
        servers: list[dict[str, list[dict[str, str]]]] = body["servers"]  # type: ignore[assignment]
        addresses = [a["address"] for a in servers[0]["addresses"]]
        self.assertEqual(addresses[0], "[2001:db8::1]:2002")
        self.assertTrue(addresses[1].endswith(":2003"))
        self.assertNotIn("a b", addresses[1])

    def test_off(self) -> None:
        """
        Without a Roughtime server: 501, in JSON.
        """
        code, body, _ = self.get(None, "/roughtime.json")
        self.assertEqual(
            (code, body), (501, {"error": "Roughtime is off: no --roughtime-listen"})
        )

    def test_healthz(self) -> None:
        """
        C{/healthz} shows the key and the delegation's window.
        """
        _, body, _ = self.get(self.service, "/healthz")
        self.assertEqual(
            body["roughtime"],
            {
                "public_key": base64.b64encode(
                    self.service.responder.publicKey
                ).decode(),
                "mint": BILLENNIUM - 60,
                "maxt": BILLENNIUM + 86400,
                "mint_iso": "2001-09-09T01:45:40Z",
                "maxt_iso": "2001-09-10T01:46:40Z",
            },
        )
        _, plain, _ = self.get(None, "/healthz")
        self.assertNotIn("roughtime", plain)

    def test_metrics(self) -> None:
        """
        C{/metrics} counts requests, replies, drops by reason, batch sizes
        and delegations.
        """
        responder = self.service.responder
        responder.stats.requests["udp"] += 2
        responder.submit(request(bytes(32)), lambda _: None, True)
        responder.submit(b"nonsense", lambda _: None, True)
        self.clock.advance(1)
        site = buildSite(self.clock, roughtime=self.service)
        response = self.successResultOf(stubTreq(site.resource).get(URL + "/metrics"))
        text = self.successResultOf(response.text())
        for line in [
            'clocksvc_roughtime_requests_total{transport="udp"} 2.0',
            "clocksvc_roughtime_replies_total 1.0",
            'clocksvc_roughtime_dropped_total{reason="malformed"} 1.0',
            'clocksvc_roughtime_batch_size_bucket{le="1.0"} 1.0',
            "clocksvc_roughtime_batch_size_sum 1.0",
            "clocksvc_roughtime_delegations_total 1.0",
        ]:
            self.assertIn(line, text.splitlines())
