"""
clocksvc's Roughtime server, verified by a client no one here wrote:
C{roughly} (tests/_roughly.py) queries it over real UDP sockets on
127.0.0.1, as a child process, and checks its signatures, the Merkle path
and the delegation window as RFC 10049 section 5.4 says; and requests that
the RFC says go unanswered (short, malformed, for another key) are sent
over real sockets too.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from typing import Any

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorUDP
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import Clock
from twisted.internet.threads import deferToThread
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase
from twisted.web.client import HTTPConnectionPool

from clocksvc._roughtime import Responder, RoughtimeUDP, generateKey, publicKeyOf
from clocksvc._roughtime._wire import request
from clocksvc._run._endpoints import parseEndpoints
from clocksvc._run._options import Options
from clocksvc._run._roughtime import keygen
from clocksvc._run._service import ClockService

from ._helpers import keepZoneDatabase, synchronized, urlOf
from ._roughly import clientCommand, roughlyPython
from ._roughtime import checkAnswer

DRAFT = "0x8000000c"


class _Collector(DatagramProtocol):
    """
    A client's UDP socket: what it received.
    """

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.waiting: list[Deferred[bytes]] = []

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self.received.append(datagram)
        waiting, self.waiting = self.waiting, []
        for d in waiting:
            d.callback(datagram)

    def next(self) -> Deferred[bytes]:
        d: Deferred[bytes] = Deferred()
        self.waiting.append(d)
        return d


class RoughlyTests(TestCase):
    """
    C{roughly} finds the server by C{/roughtime.json} and verifies its
    answers; the answers' time is the host clock's, within their radius.
    """

    timeout = 300

    def setUp(self) -> Deferred[None]:  # type: ignore[override]
        # trial waits for a Deferred from setUp; unittest's signature says
        # None.
        return Deferred.fromCoroutine(self.start())

    async def start(self) -> None:
        self.python = await deferToThread(roughlyPython)
        path = self.mktemp()
        with open(os.devnull, "w") as devnull:
            keygen(path, devnull)
        options = Options()
        options.parseOptions(
            [
                "--access-log=off",
                "--roughtime-listen=127.0.0.1:0",
                "--roughtime-key",
                path,
                "--roughtime-tcp",
            ]
        )
        keepZoneDatabase(self)
        self.service = ClockService(
            reactor,
            options,
            parseEndpoints(reactor, ["tcp:0:interface=127.0.0.1"]),
            readClock=synchronized,
        )
        [(_, port, _)] = await self.service.listen()
        self.service.startService()
        self.addCleanup(self.service.stopService)
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        response = await treq.get(urlOf(port, "/roughtime.json"), pool=pool)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"),
            ["application/roughtime-server+json"],
        )
        [server] = json.loads(await response.content())["servers"]
        self.server = server
        self.key = server["publicKey"]
        self.udp = [a["address"] for a in server["addresses"] if a["protocol"] == "udp"]
        assert self.service.roughtime is not None
        self.stats = self.service.roughtime.responder.stats

    async def query(
        self, version: str, count: int = 1, key: str | None = None, *more: str
    ) -> dict[str, Any]:
        """
        Run the client against the server's UDP address.

        @return: what it printed.
        """
        host, port = self.udp[0].rsplit(":", 1)
        args = clientCommand(
            self.python, host, port, key or self.key, version, str(count), *more
        )
        sent = time.time()
        out, err, code = await getProcessOutputAndValue(args[0], args[1:], env={})
        self.assertEqual((code, err), (0, b""))
        result: dict[str, Any] = json.loads(out)
        result["sent"] = sent
        return result

    def assertWithinRadius(self, result: dict[str, Any]) -> None:
        """
        Each answer's interval (MIDP - RADI, MIDP + RADI) meets the host
        clock's between sending and receiving, and its radius is the one
        the synchronized clock gives (1.25 ms of error: 1 s).
        """
        for answer in result["answers"]:
            self.assertEqual(answer["radius"], 1)
            self.assertLess(answer["midpoint"] - answer["radius"], answer["host_time"])
            self.assertGreater(answer["midpoint"] + answer["radius"], result["sent"])

    async def test_serverList(self) -> None:
        """
        C{/roughtime.json} is RFC 10049's server list of this server: its
        name, version 1, its key, and its UDP and TCP addresses.
        """
        self.assertEqual(
            (self.server["name"], self.server["version"], self.server["publicKeyType"]),
            ("clocksvc", 1, "ed25519"),
        )
        self.assertEqual(len(base64.b64decode(self.key)), 32)
        self.assertEqual(
            sorted(a["protocol"] for a in self.server["addresses"]), ["tcp", "udp"]
        )

    async def test_version1(self) -> None:
        """
        roughly verifies an answer in the RFC's version 1.
        """
        result = await self.query("1")
        self.assertTrue(result["ok"], result)
        [answer] = result["answers"]
        self.assertEqual((answer["version"], answer["versions"]), (1, [1, 0x8000000C]))
        self.assertLessEqual(answer["mint"], answer["midpoint"])
        self.assertLessEqual(answer["midpoint"], answer["maxt"])
        self.assertWithinRadius(result)
        self.assertEqual(self.stats.replies, 1)

    async def test_draftVersion(self) -> None:
        """
        roughly verifies an answer in the drafts' version 0x8000000c.
        """
        result = await self.query(DRAFT)
        self.assertTrue(result["ok"], result)
        self.assertEqual(result["answers"][0]["version"], 0x8000000C)
        self.assertWithinRadius(result)

    async def test_several(self) -> None:
        """
        Requests sent at once are each verified, whichever batch each
        falls in: each has its own Merkle path to its batch's root.
        """
        result = await self.query("1", 8)
        self.assertTrue(result["ok"], result)
        self.assertEqual(len(result["answers"]), 8)
        self.assertWithinRadius(result)
        self.assertEqual(self.stats.replies, 8)
        self.assertEqual(self.stats.batchRequests, 8)

    async def test_wrongKey(self) -> None:
        """
        With the wrong public key (and no SRV naming it), roughly rejects
        the answer: the delegation's signature does not verify.
        """
        other = base64.b64encode(publicKeyOf(generateKey())).decode()
        result = await self.query("1", 1, other, "nosrv")
        self.assertEqual(
            result,
            {
                "ok": False,
                "error": "verification",
                "reason": "signature-certificate",
                "sent": result["sent"],
            },
        )

    async def test_otherServersKey(self) -> None:
        """
        A request whose SRV names another key is not answered (section
        5.2): roughly hears nothing, and the server counts it.
        """
        other = base64.b64encode(publicKeyOf(generateKey())).decode()
        result = await self.query("1", 1, other, "srv", "3")
        self.assertEqual(result["error"], "TimeoutError")
        self.assertEqual((self.stats.dropped["srv"], self.stats.replies), (1, 0))

    async def test_unanswered(self) -> None:
        """
        A datagram shorter than 1024 bytes, and 1024 bytes that are not a
        request, go unanswered and are counted; the request after them is
        answered, and its answer checks.
        """
        client = _Collector()
        port = IReactorUDP(reactor).listenUDP(0, client, "127.0.0.1", 8192)
        self.addCleanup(port.stopListening)
        transport = client.transport
        assert transport is not None
        host, number = self.udp[0].rsplit(":", 1)
        target = (host, int(number))
        valid = request(os.urandom(32))
        answered = client.next()
        transport.write(valid[:1023], target)
        transport.write(b"ROUGHTIM" + bytes(1016), target)
        transport.write(valid, target)
        reply = await answered
        checkAnswer(valid, reply, base64.b64decode(self.key))
        self.assertEqual(len(client.received), 1)
        self.assertEqual(
            (self.stats.dropped["short"], self.stats.dropped["malformed"]), (1, 1)
        )
        self.assertEqual(self.stats.requests["udp"], 3)

    async def test_tcp(self) -> None:
        """
        Over TCP, a request framed as over UDP is answered on the
        connection, and the answer checks.
        """
        [address] = [
            a["address"] for a in self.server["addresses"] if a["protocol"] == "tcp"
        ]
        host, number = address.rsplit(":", 1)
        valid = request(os.urandom(32), size=200)

        def exchange() -> bytes:
            with socket.create_connection((host, int(number)), timeout=60) as s:
                s.sendall(valid)
                data = b""
                while len(data) < 12 or len(data) < 12 + int.from_bytes(
                    data[8:12], "little"
                ):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                return data

        reply = await deferToThread(exchange)
        checkAnswer(valid, reply, base64.b64decode(self.key))
        self.assertEqual(self.stats.requests["tcp"], 1)


class DelegationTests(TestCase):
    """
    The online key's window, as roughly sees it: renewed before it closes,
    and an answer outside it rejected.
    """

    timeout = 300

    def setUp(self) -> Deferred[None]:  # type: ignore[override]
        # As RoughlyTests.setUp.
        return Deferred.fromCoroutine(self.start())

    async def start(self) -> None:
        self.python = await deferToThread(roughlyPython)
        self.wallClock = Clock()
        self.wallClock.advance(time.time())
        key = generateKey()
        self.key = base64.b64encode(publicKeyOf(key)).decode()
        self.responder = Responder(key, self.wallClock, reactor, lambda: 1)
        port = IReactorUDP(reactor).listenUDP(
            0, RoughtimeUDP(self.responder, None), "127.0.0.1", 8192
        )
        self.addCleanup(port.stopListening)
        self.port: int = port.getHost().port  # type: ignore[attr-defined]

    async def query(self) -> dict[str, Any]:
        args = clientCommand(
            self.python, "127.0.0.1", str(self.port), self.key, "1", "1"
        )
        out, err, code = await getProcessOutputAndValue(args[0], args[1:], env={})
        self.assertEqual((code, err), (0, b""))
        result: dict[str, Any] = json.loads(out)
        return result

    async def test_renewed(self) -> None:
        """
        When the wall clock passes the window's end, the next batch is
        signed by a new online key whose window holds its time; roughly
        verifies both.
        """
        first = await self.query()
        self.assertTrue(first["ok"], first)
        self.wallClock.advance(2 * 86400)
        second = await self.query()
        self.assertTrue(second["ok"], second)
        [before], [after] = first["answers"], second["answers"]
        self.assertGreater(after["mint"], before["maxt"])
        self.assertEqual(after["midpoint"] - before["midpoint"], 2 * 86400)
        self.assertEqual(self.responder.stats.delegations, 2)

    async def test_expired(self) -> None:
        """
        An answer signed by an online key past its window (a server that
        failed to renew it, made so by renewing never) is rejected by
        roughly: MIDP is past MAXT.
        """
        self.responder.renewBefore = -10 * 86400
        self.wallClock.advance(2 * 86400)
        result = await self.query()
        self.assertEqual(
            result, {"ok": False, "error": "verification", "reason": "key-age"}
        )
