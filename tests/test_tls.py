"""
Tests for clocksvc over TLS, as a user serves it with C{--listen ssl:...}:
HTTPS with certificates from a throwaway CA, and HTTP/2, which ALPN
negotiates on the same port when the C{h2} package is installed.

The HTTPS tests run the site in this process and ask with treq; the HTTP/2
ones run C{python -m clocksvc} as a child and ask with curl (and h2load,
where it is installed), since treq speaks only HTTP/1.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import sys
import time
from http.client import HTTPSConnection
from pathlib import Path
from typing import Any, cast

import treq
import trustme
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import quoteStringArgument, serverFromString
from twisted.internet.interfaces import IAddress, IListeningPort
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.logger import ILogObserver, Logger, globalLogPublisher
from twisted.python.usage import UsageError
from twisted.trial.unittest import FailTest, SkipTest, TestCase
from twisted.web import http
from twisted.web.client import (
    Agent,
    BrowserLikePolicyForHTTPS,
    HTTPConnectionPool,
    ResponseNeverReceived,
)

from clocksvc._run._endpoints import Problem, parseEndpoint, withCertificate
from clocksvc._run._options import Options
from clocksvc._run._tls import (
    MAX_PEM_BYTES,
    ReloadableCertificate,
    TLSError,
    loadCertificate,
    serialOf,
)
from clocksvc._web._site import buildSite

from ._helpers import BILLENNIUM, clockAt, useTimezone, within
from ._openapi import validateResponse
from ._process import _IMPORT_ROOT, ClocksvcProcess, curl, runProcess, spawnClocksvc
from ._tls import TLS_MISSING, makeCredentials

log = Logger()

PAGE = b"<html><body>Sun Sep  9 01:46:40 2001</body></html>"


def httpsClient(testCase: TestCase, caPEM: bytes) -> HTTPClient:
    """
    @return: a treq client that trusts only the CA of C{caPEM}, with no
        connection left open when C{testCase} ends.
    """
    # Here, not above: PyPy 3.9 has no pyOpenSSL (see tests._tls).
    from twisted.internet.ssl import Certificate

    pool = HTTPConnectionPool(reactor, persistent=False)
    testCase.addCleanup(pool.closeCachedConnections)
    policy = BrowserLikePolicyForHTTPS(trustRoot=Certificate.loadPEM(caPEM))
    return HTTPClient(Agent(reactor, contextFactory=policy, pool=pool))


def assertTimeDocument(testCase: TestCase, body: bytes) -> dict[str, Any]:
    """
    Check that C{body} is a time document for now, for a client at
    127.0.0.1, in UTC.

    @return: the document.
    """
    document: dict[str, Any] = json.loads(body)
    testCase.assertEqual(document["timezone"], "UTC")
    testCase.assertEqual(document["client_ip"], "127.0.0.1")
    testCase.assertLess(abs(document["unixtime"] - time.time()), 5)
    return document


class HTTPSTests(TestCase):
    """
    clocksvc's site on an C{ssl:} endpoint of this process, asked with treq
    over HTTPS.
    """

    timeout = 20

    def setUp(self) -> None:
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        useTimezone(self, "UTC")
        self.credentials = makeCredentials(self.mktemp())
        self.client = httpsClient(self, self.credentials.caPEM)

    async def listen(self, accessLog: bool = False) -> int:
        """
        Serve the site, its clock set to the billennium, with TLS on a free
        port of 127.0.0.1, until the test ends.

        @return: the port number.
        """
        site = buildSite(clockAt(BILLENNIUM), accessLog=accessLog)
        endpoint = serverFromString(reactor, self.credentials.endpoint())
        port: IListeningPort = await endpoint.listen(site)
        self.addCleanup(port.stopListening)
        address = port.getHost()
        assert isinstance(address, IPv4Address)
        return address.port

    async def test_now(self) -> None:
        """
        C{/now} over HTTPS, by IP address, answers the time document of the
        site's clock: the certificate names 127.0.0.1 too.
        """
        response = await self.client.get(f"https://127.0.0.1:{await self.listen()}/now")
        body = await response.content()
        self.assertEqual(response.code, 200)
        contentType = response.headers.getRawHeaders(b"content-type")
        self.assertEqual(contentType, [b"application/json; charset=utf-8"])
        document = json.loads(body)
        # The clock is set to the billennium, 2001-09-09T01:46:40Z.
        self.assertEqual(document["unixtime"], BILLENNIUM)
        self.assertEqual(document["utc_datetime"], "2001-09-09T01:46:40.000000+00:00")
        self.assertEqual(document["client_ip"], "127.0.0.1")
        validateResponse("GET", "/now", 200, contentType[0].decode(), body)

    async def test_scheme(self) -> None:
        """
        Over TLS, the access log's scheme is https, for quick answers and
        the resource tree's, and C{/live} shows an https URL.
        """
        events: list[dict[str, object]] = []

        def observe(event: dict[str, object]) -> None:
            if event.get("log_namespace") == "clocksvc.access":
                events.append(event)

        observer = cast(ILogObserver, observe)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        port = await self.listen(accessLog=True)
        for path in ["now", "now?tz=UTC"]:
            response = await self.client.get(f"https://127.0.0.1:{port}/{path}")
            await response.content()
        response = await self.client.get(f"https://localhost:{port}/live")
        self.assertIn(
            f"<code>curl https://localhost:{port}/now</code>".encode(),
            await response.content(),
        )
        self.assertEqual([event["scheme"] for event in events], ["https"] * 3)

    async def test_page(self) -> None:
        """
        C{/} over HTTPS, by host name, is the lesson's page, byte for byte.
        """
        response = await self.client.get(f"https://localhost:{await self.listen()}/")
        self.assertEqual(response.code, 200)
        self.assertEqual(await response.content(), PAGE)

    async def test_untrusted(self) -> None:
        """
        A client that trusts another CA refuses the server's certificate, so
        the tests above did check it.
        """
        port = await self.listen()
        client = httpsClient(self, trustme.CA().cert_pem.bytes())
        with self.assertRaises(ResponseNeverReceived) as caught:
            await client.get(f"https://127.0.0.1:{port}/now")
        reasons = [str(reason.value) for reason in caught.exception.reasons]
        self.assertIn("certificate verify failed", " ".join(reasons))


def _sendAfterRefusal(port: int, caPEM: bytes, most: int) -> tuple[bytes, int]:
    """
    Over TLS, send a request the server refuses, read the refusal, and go on
    sending, as a careless or hostile client does, until the server stops
    taking it (the connection ends, or stays full for a second) or C{most}
    bytes have gone.

    @return: the refusal's first bytes, and how many were sent after it.
    """
    context = ssl.create_default_context(cadata=caPEM.decode())
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        sock.sendall(b"GET /now HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        sock.settimeout(5)
        refusal = sock.recv(4096)
        sock.settimeout(1)
        sent = 0
        try:
            while sent < most:
                sent += sock.send(b"x" * 16384)
        except OSError:
            # Reset (the server closed), or full for a second (it reads no
            # more): either way, it stopped taking what is sent.
            pass
        return refusal, sent


class RefusalOverTLSTests(TestCase):
    """
    A refused connection over TLS ends as one over TCP does: the server
    reads, and decrypts, nothing more once the refusal is written.
    """

    timeout = 30

    def setUp(self) -> None:
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        self.credentials = makeCredentials(self.mktemp())

    async def test_stopsReading(self) -> None:
        """
        A client that goes on sending after a C{400} over TLS has the
        server decrypt little more of it (what crossed the refusal), and
        the connection ends soon after the refusal, not at the 15 s abort.
        """
        site = buildSite(clockAt(BILLENNIUM))
        decrypted: list[int] = []
        lost: Deferred[float] = Deferred()
        refusedAt: list[float] = []
        build = site.buildProtocol

        def counting(addr: IAddress | None) -> Any:
            channel = build(addr)
            feed, refuse, end = (
                channel.dataReceived,
                channel.refuse,
                channel.connectionLost,
            )

            def dataReceived(data: bytes) -> None:
                if refusedAt:
                    decrypted.append(len(data))
                feed(data)

            def refused(code: int, bodyless: bool = False) -> None:
                refusedAt.append(time.monotonic())
                refuse(code, bodyless)

            def connectionLost(reason: Any) -> None:
                end(reason)
                lost.callback(time.monotonic())

            channel.dataReceived = dataReceived
            channel.refuse = refused
            channel.connectionLost = connectionLost
            return channel

        site.buildProtocol = counting  # type: ignore[method-assign]
        endpoint = serverFromString(reactor, self.credentials.endpoint())
        port: IListeningPort = await endpoint.listen(site)
        self.addCleanup(port.stopListening)
        address = port.getHost()
        assert isinstance(address, IPv4Address)
        most = 64 * 1024 * 1024
        refusal, sent = await deferToThread(
            _sendAfterRefusal, address.port, self.credentials.caPEM, most
        )
        endedAt = await within(lost, 20, "the connection's end")
        log.info(
            "after a 400 over TLS the client sent {sent} bytes; the server "
            "decrypted {decrypted} of them, and the connection ended "
            "{seconds:.2f} s after the refusal",
            sent=sent,
            decrypted=sum(decrypted),
            seconds=endedAt - refusedAt[0],
        )
        self.assertTrue(refusal.startswith(b"HTTP/1.1 400 "), refusal)
        # clocksvc bug: the TLS layer read and decrypted all 64 MiB the
        # client sent (it waited for the client's close_notify), and the
        # connection ended at the abort, 15 s after the refusal.
        self.assertLess(sent, most)
        self.assertLess(sum(decrypted), 1024 * 1024)
        self.assertLess(endedAt - refusedAt[0], 5)


def _proxiedOverTLS(port: int, caPEM: bytes) -> bytes:
    """
    As HAProxy's C{send-proxy} to an C{ssl} server: a PROXY line in clear,
    then TLS, and C{GET /now} in it.

    @return: the answer, all of it.
    """
    context = ssl.create_default_context(cadata=caPEM.decode())
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"PROXY TCP4 203.0.113.7 127.0.0.1 40000 443\r\n")
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            sock.settimeout(10)
            sock.sendall(
                b"GET /now HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            return answer


class ProxiedTLSTests(TestCase):
    """
    C{haproxy:ssl:} reads the PROXY header first, in clear, and TLS after
    it, as a proxy in front of a TLS server sends them.
    """

    timeout = 20

    def setUp(self) -> None:
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        self.credentials = makeCredentials(self.mktemp())

    async def test_headerThenTLS(self) -> None:
        """
        A PROXY line, then a TLS handshake and a request: the request is
        answered, and the client's address is the header's.
        """
        site = buildSite(clockAt(BILLENNIUM))
        endpoint = parseEndpoint(reactor, "haproxy:" + self.credentials.endpoint())
        port: IListeningPort = await endpoint.listen(site)
        self.addCleanup(port.stopListening)
        address = port.getHost()
        assert isinstance(address, IPv4Address)
        # clocksvc bug: TLS read first, and took the PROXY line for a
        # broken handshake: the connection failed.
        answer = await deferToThread(
            _proxiedOverTLS, address.port, self.credentials.caPEM
        )
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), answer[:200])
        self.assertIn(b'"client_ip":"203.0.113.7"', answer)


class ProcessTLSTests(TestCase):
    """
    C{python -m clocksvc --listen ssl:...} as a child process: HTTPS, and
    HTTP/2 negotiated with ALPN.
    """

    timeout = 20

    def setUp(self) -> None:
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        if not http.H2_ENABLED:
            raise SkipTest("the h2 package is not installed")
        self.credentials = makeCredentials(self.mktemp())

    async def serve(self, *args: str) -> tuple[int, ClocksvcProcess]:
        """
        Start clocksvc on a free port of 127.0.0.1 with TLS.

        @return: the port and the process, which is killed at cleanup if the
            test has not ended it.
        """
        process = spawnClocksvc(
            "--access-log", "off", "--listen", self.credentials.endpoint(), *args
        )

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        line = (await within(process.firstLine, 10, "the serving line")).decode()
        # The line says http:// for TLS too; test_servingLineScheme wants
        # https://, and this accepts either meanwhile.
        found = re.fullmatch(r"clocksvc: serving https?://127\.0\.0\.1:(\d+)/", line)
        self.assertIsNotNone(found, (line, process.stderr))
        assert found is not None
        return int(found.group(1)), process

    def url(self, port: int, path: str) -> list[str]:
        """
        @return: curl's arguments for C{path} on the server: the name
            C{localhost} pinned to 127.0.0.1, and the CA to trust.
        """
        return [
            "--cacert",
            self.credentials.caFile,
            "--resolve",
            f"localhost:{port}:127.0.0.1",
            f"https://localhost:{port}{path}",
        ]

    async def test_serves(self) -> None:
        """
        It serves HTTPS with the certificate it was given, and SIGTERM stops
        it with status 0.
        """
        port, process = await self.serve()
        client = httpsClient(self, self.credentials.caPEM)
        response = await client.get(f"https://127.0.0.1:{port}/now")
        body = await response.content()
        self.assertEqual(response.code, 200)
        assertTimeDocument(self, body)
        process.signal("TERM")
        self.assertEqual(await within(process.exited, 5, "exit"), 0)

    async def test_servingLineScheme(self) -> None:
        """
        The serving line gives the URL to ask: https:// on a TLS endpoint.
        """
        _, process = await self.serve()
        self.assertEqual(
            process.stderr.split(b"\n")[0].split(b"://")[0],
            b"clocksvc: serving https",
        )

    async def test_http2(self) -> None:
        """
        curl negotiates HTTP/2 and gets the time document; a path that does
        not exist is 404 and a method that is not allowed 405, each a whole
        answer; HEAD gives GET's headers without the body.
        """
        port, _ = await self.serve()
        now = await curl("--http2", *self.url(port, "/now"))
        self.assertEqual((now.exitCode, now.version, now.status), (0, "2", 200))
        assertTimeDocument(self, now.body)
        validateResponse("GET", "/now", 200, now.contentType(), now.body)

        missing = await curl("--http2", *self.url(port, "/nope"))
        self.assertEqual((missing.version, missing.status), ("2", 404))
        self.assertEqual(missing.body, b"404 Not Found\n")

        post = await curl("--http2", "--request", "POST", *self.url(port, "/now"))
        self.assertEqual((post.version, post.status), ("2", 405))
        self.assertEqual(post.headers["allow"], "GET, HEAD, OPTIONS")
        self.assertEqual(json.loads(post.body), {"error": "method not allowed"})
        validateResponse("POST", "/now", 405, post.contentType(), post.body)

        head = await curl("--http2", "--head", *self.url(port, "/now"))
        self.assertEqual((head.exitCode, head.version, head.status), (0, "2", 200))
        self.assertEqual(head.body, b"")
        self.assertEqual(head.headers["content-length"], now.headers["content-length"])

    async def test_http11(self) -> None:
        """
        A client that asks for HTTP/1.1 over TLS still gets it.
        """
        port, _ = await self.serve()
        now = await curl("--http1.1", *self.url(port, "/now"))
        self.assertEqual((now.exitCode, now.version, now.status), (0, "1.1", 200))
        assertTimeDocument(self, now.body)

    async def test_http2Stream(self) -> None:
        """
        C{/stream} over HTTP/2 sends C{retry: 1000}, then a tick at each
        second, carrying the document of that second; curl stops it at its
        time limit (exit status 28).
        """
        port, _ = await self.serve()
        stream = await curl("--http2", "-N", *self.url(port, "/stream"), seconds=2.5)
        self.assertEqual((stream.exitCode, stream.version), (28, "2"), stream.stderr)
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.contentType(), "text/event-stream; charset=utf-8")
        self.assertTrue(stream.body.startswith(b"retry: 1000\n\n"), stream.body)
        ticks = [b for b in stream.body.split(b"\n\n") if b"\nevent: tick\n" in b]
        self.assertGreaterEqual(len(ticks), 1, stream.body)
        second = int(ticks[0].split(b"\n")[0].removeprefix(b"id: "))
        data = ticks[0].split(b"\ndata: ", 1)[1]
        self.assertEqual(assertTimeDocument(self, data)["unixtime"], second)

    async def test_http2Body(self) -> None:
        """
        C{POST /timesync} with its JSON body over HTTP/2 is answered as over
        HTTP/1.1.
        """
        port, _ = await self.serve()
        call = await curl(
            "--http2",
            "--header",
            "content-type: application/json",
            "--data",
            '{"jsonrpc":"2.0","id":"7","method":"timesync"}',
            *self.url(port, "/timesync"),
        )
        self.assertEqual((call.version, call.status), ("2", 200), call.stderr)
        answer = json.loads(call.body)
        self.assertEqual((answer["jsonrpc"], answer["id"]), ("2.0", "7"))
        self.assertLess(abs(answer["result"] / 1000 - time.time()), 5)

    async def test_http2BodyLimit(self) -> None:
        """
        A body over the limit is refused over HTTP/2 too: 413.
        """
        port, _ = await self.serve()
        call = await curl(
            "--http2", "--data-binary", "x" * 100_000, *self.url(port, "/timesync")
        )
        self.assertEqual((call.version, call.status), ("2", 413), call.stderr)

    async def test_http2StreamOutlivesHeaderTimeout(self) -> None:
        """
        The header timeout bounds receiving a request, not a response: an
        HTTP/2 event stream goes on past it.
        """
        port, _ = await self.serve("--header-timeout", "1")
        stream = await curl("--http2", "-N", *self.url(port, "/stream"), seconds=3)
        ticks = stream.body.count(b"\nevent: tick\n")
        self.assertEqual((stream.exitCode, stream.version), (28, "2"), stream.stderr)
        self.assertGreaterEqual(ticks, 2)

    async def test_http2ConnectionsCounted(self) -> None:
        """
        An HTTP/2 connection stops counting as open once the client has
        gone: C{/metrics} on the admin port says 0.
        """
        port, process = await self.serve("--admin-listen", "tcp:0:interface=127.0.0.1")
        for _ in range(100):
            if process.stderr.count(b"\n") >= 2:
                break
            await deferLater(reactor, 0.02)
        admin = process.stderr.split(b"\n")[1].decode()
        self.assertRegex(admin, r"^clocksvc: admin on http://127\.0\.0\.1:\d+/$")
        metrics = admin.removeprefix("clocksvc: admin on ") + "metrics"
        now = await curl("--http2", *self.url(port, "/now"))
        self.assertEqual((now.version, now.status), ("2", 200))
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        # The server learns of the hang-up on a later turn of its reactor.
        count = b""
        for _ in range(20):
            response = await treq.get(metrics, pool=pool)
            found = re.search(
                rb"^clocksvc_open_connections (\S+)$",
                await response.content(),
                re.MULTILINE,
            )
            assert found is not None
            count = found.group(1)
            if count == b"0.0":
                break
            await deferLater(reactor, 0.05)
        self.assertEqual(count, b"0.0")

    async def test_shutdownAfterHTTP2(self) -> None:
        """
        SIGTERM stops clocksvc with status 0 after it has served HTTP/2,
        well within the shutdown timeout.
        """
        port, process = await self.serve("--shutdown-timeout", "1")
        now = await curl("--http2", *self.url(port, "/now"))
        self.assertEqual((now.version, now.status), ("2", 200))
        process.signal("TERM")
        self.assertEqual(await within(process.exited, 4, "exit after SIGTERM"), 0)

    async def test_h2load(self) -> None:
        """
        h2load's requests over HTTP/2 connections are all answered 2xx.
        """
        h2load = shutil.which("h2load")
        if h2load is None:
            raise SkipTest("h2load (Debian's nghttp2-client) is not installed")
        port, _ = await self.serve()
        result = await runProcess(
            [
                h2load,
                "-n",
                "200",
                "-c",
                "4",
                "-m",
                "8",
                f"https://127.0.0.1:{port}/now",
            ],
            10,
        )
        output = result.stdout.decode()
        self.assertEqual(result.code, 0, output + result.stderr.decode())
        self.assertIn("Application protocol: h2", output)
        self.assertIn(
            "requests: 200 total, 200 started, 200 done, 200 succeeded", output
        )
        self.assertIn("status codes: 200 2xx,", output)


def _writeLeaf(leaf: Any, certFile: str, keyFile: str) -> None:
    """
    Write a certificate that trustme issued, and its key, where clocksvc
    reads them.
    """
    leaf.private_key_pem.write_to_path(keyFile)
    with open(certFile, "wb") as f:
        for pem in leaf.cert_chain_pems:
            f.write(pem.bytes())


#: Diffie-Hellman parameters of 512 bits, which OpenSSL refuses.
_WEAK_DH = b"""-----BEGIN DH PARAMETERS-----
MEYCQQD/1RtT67uPtfdJAfo+T1DBGLlY3Uas8wD9j8bQiWhNVK7CBZyVforZ8+l0
VjW+wps2G4yguU2LVfrda3RN9I93AgEC
-----END DH PARAMETERS-----
"""


class CertificateFilesTests(TestCase):
    """
    L{loadCertificate} reads a certificate and its key, and says in one
    line, naming the file, why they cannot serve.
    """

    def setUp(self) -> None:
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        self.directory = self.mktemp()
        self.credentials = makeCredentials(self.directory)

    def path(self, name: str, content: bytes | None = None) -> str:
        """
        @return: the path of C{name} in the test's directory, written with
            C{content} if given.
        """
        path = os.path.join(self.directory, name)
        if content is not None:
            with open(path, "wb") as f:
                f.write(content)
        return path

    def problem(self, *args: str | None, **kwargs: str | None) -> str:
        """
        @return: what L{loadCertificate} says is wrong.
        """
        with self.assertRaises(TLSError) as raised:
            loadCertificate(*args, **kwargs)  # type: ignore[arg-type]
        return str(raised.exception)

    def test_loads(self) -> None:
        """
        A certificate and its key load; the file may hold both.
        """
        cert, key = self.credentials.certFile, self.credentials.keyFile
        options = loadCertificate(cert, key)
        both = self.path("both.pem", Path(key).read_bytes() + Path(cert).read_bytes())
        self.assertEqual(serialOf(loadCertificate(both, both)), serialOf(options))

    def test_problems(self) -> None:
        """
        A file that is missing, a directory, too large, without a PEM
        certificate or key, an encrypted key, a key of another certificate,
        and C{ssl:}'s other files and method: each one line naming the file.
        """
        from cryptography.hazmat.primitives import serialization

        cert, key = self.credentials.certFile, self.credentials.keyFile
        text = self.path("text.pem", b"not PEM at all\n")
        other = self.path(
            "other.key", trustme.CA().issue_cert("x").private_key_pem.bytes()
        )
        loaded = serialization.load_pem_private_key(Path(key).read_bytes(), None)
        encrypted = self.path(
            "encrypted.key",
            loaded.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
        )
        large = self.path("large.pem", b"x" * (MAX_PEM_BYTES + 1))
        for args, kwargs, message in [
            (
                ("/nope.crt", key),
                {},
                "cannot read the certificate /nope.crt: no such file or directory",
            ),
            (
                (cert, "/nope.key"),
                {},
                "cannot read the private key /nope.key: no such file or directory",
            ),
            (
                (self.directory, key),
                {},
                f"cannot read the certificate {self.directory}: is a directory",
            ),
            (
                (large, key),
                {},
                f"the certificate {large} is larger than 1024 KiB: not a PEM file",
            ),
            ((text, key), {}, f"the certificate {text} holds no PEM certificate"),
            ((cert, text), {}, f"the private key {text} holds no PEM private key"),
            ((cert, cert), {}, f"the private key {cert} holds no PEM private key"),
            (
                (cert, encrypted),
                {},
                f"the private key {encrypted} is encrypted: clocksvc needs it "
                "without a passphrase",
            ),
            (
                (cert, other),
                {},
                f"the private key {other} does not match the certificate {cert}",
            ),
            (
                (cert, key),
                {"chainFile": text},
                f"the certificate chain {text} holds no PEM certificate",
            ),
            (
                (cert, key),
                {"dhFile": text},
                f"the DH parameters {text} hold no PEM DH parameters",
            ),
            (
                (cert, key),
                {"method": "SSLv9_METHOD"},
                "sslmethod 'SSLv9_METHOD' is not one of pyOpenSSL's, such as "
                "TLS_METHOD",
            ),
        ]:
            self.assertEqual(self.problem(*args, **kwargs), message)

    def test_methodAndParameters(self) -> None:
        """
        C{ssl:}'s C{sslmethod=} names one of pyOpenSSL's methods; DH
        parameters that OpenSSL refuses (too few bits for its security level)
        are said with its reason, naming the file.
        """
        cert, key = self.credentials.certFile, self.credentials.keyFile
        # Twisted says that method= is deprecated; clocksvc passes it on, as
        # Twisted's ssl: endpoint does.
        loadCertificate(cert, key, method="TLS_METHOD")
        self.flushWarnings()
        weak = self.path("dh512.pem", _WEAK_DH)
        self.assertEqual(
            self.problem(cert, key, dhFile=weak),
            f"OpenSSL cannot serve the certificate {cert} with the DH parameters "
            f"{weak}: unknown security bits",
        )

    def test_reloadKeepsOld(self) -> None:
        """
        L{ReloadableCertificate.reload} takes the files as they are now; if
        they cannot serve, it keeps the certificate it has, and logs why.
        """
        events: list[dict[str, object]] = []
        observer = cast(ILogObserver, events.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        cert, key = self.credentials.certFile, self.credentials.keyFile
        certificate = ReloadableCertificate(lambda: loadCertificate(cert, key), cert)
        first = serialOf(certificate.options)
        _writeLeaf(trustme.CA().issue_cert("localhost"), cert, key)
        certificate.reload()
        second = serialOf(certificate.options)
        self.assertNotEqual(first, second)
        with open(cert, "wb") as f:
            f.write(b"garbage")
        certificate.reload()
        self.assertEqual(serialOf(certificate.options), second)
        self.assertEqual(
            [(e["event"], e["log_level"].name) for e in events],  # type: ignore[attr-defined]
            [("tls_reloaded", "info"), ("tls_reload_failed", "warn")],
        )
        self.assertEqual(
            events[1]["problem"], f"the certificate {cert} holds no PEM certificate"
        )


class TLSOptionsTests(TestCase):
    """
    C{--tls-cert} and C{--tls-key}: HTTPS for C{--port}, the default
    listener and C{ssl:} endpoints that name no key of their own.
    """

    def setUp(self) -> None:
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        self.credentials = makeCredentials(self.mktemp())

    def parse(self, *argv: str) -> Options:
        """
        @return: the options of C{argv}, with C{--tls-cert} and C{--tls-key}.
        """
        options = Options()
        options.parseOptions(
            [
                "--tls-cert",
                self.credentials.certFile,
                "--tls-key",
                self.credentials.keyFile,
                *argv,
            ]
        )
        return options

    def test_endpoints(self) -> None:
        """
        C{--port} and the default listener become C{ssl:} endpoints with the
        files; C{ssl:} endpoints without a key get them, others are left as
        they are.
        """
        keys = (
            f":privateKey={quoteStringArgument(self.credentials.keyFile)}"
            f":certKey={quoteStringArgument(self.credentials.certFile)}"
        )
        self.assertEqual(self.parse()["listen"], ["ssl:8880" + keys])
        options = self.parse(
            *["--listen", "tcp:8080", "--port", "8443", "--listen", "ssl:443"],
            *["--listen", "ssl:4443:privateKey=other.pem"],
            *["--listen", "haproxy:ssl:9443", "--admin-listen", "ssl:9100"],
        )
        self.assertEqual(
            options["listen"],
            [
                "tcp:8080",
                "ssl:8443" + keys,
                "ssl:443" + keys,
                "ssl:4443:privateKey=other.pem",
                "haproxy:ssl:9443" + keys,
            ],
        )
        self.assertEqual(options["admin-listen"], ["ssl:9100" + keys])

    def test_described(self) -> None:
        """
        A description that is wrong is left as it is, for the endpoint's
        parser to say what is wrong with it.
        """
        self.assertEqual(withCertificate("ssl:https", "c.pem", "k.pem"), "ssl:https")

    def test_problems(self) -> None:
        """
        One without the other is a usage error; files that cannot serve are
        a problem, said as L{loadCertificate} says it.
        """
        options = Options()
        with self.assertRaises(UsageError) as raised:
            options.parseOptions(["--tls-key", self.credentials.keyFile])
        self.assertEqual(str(raised.exception), "--tls-cert and --tls-key go together")
        options = Options()
        with self.assertRaises(Problem) as problem:
            options.parseOptions(
                ["--tls-cert", "/nope.crt", "--tls-key", self.credentials.keyFile]
            )
        self.assertEqual(
            str(problem.exception),
            "cannot read the certificate /nope.crt: no such file or directory",
        )


def _serialOfLeaf(leaf: Any) -> int:
    """
    @return: the serial number of a certificate that trustme issued.
    """
    from cryptography import x509

    pem = leaf.cert_chain_pems[0].bytes()
    return int(x509.load_pem_x509_certificate(pem).serial_number)


def _serialOverTLS(connection: HTTPSConnection) -> int:
    """
    @return: the serial number of the certificate the server showed on
        C{connection}, which is open.
    """
    from cryptography import x509

    # An HTTPSConnection's socket, once connected, is an SSLSocket.
    tls = cast(ssl.SSLSocket, connection.sock)
    der = tls.getpeercert(binary_form=True)
    assert der is not None
    return int(x509.load_der_x509_certificate(der).serial_number)


def _askOverTLS(connection: HTTPSConnection) -> int:
    """
    GET C{/now} on C{connection}, which stays open for the next request.

    @return: the certificate's serial number, after a 200.
    """
    connection.request("GET", "/now")
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise FailTest(f"status {response.status}")
    return _serialOverTLS(connection)


async def _until(condition: Any, seconds: float, what: str) -> None:
    """
    Wait until C{condition()} is true, polling, at most C{seconds}.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise FailTest(f"{what}: not after {seconds:g} s")
        await deferLater(reactor, 0.05, lambda: None)


class CertificateProcessTests(TestCase):
    """
    C{python -m clocksvc} with a certificate: a file that cannot serve is
    one line and exit status 2; SIGHUP reads the files again.
    """

    timeout = 60

    def setUp(self) -> None:
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        self.directory = self.mktemp()
        self.credentials = makeCredentials(self.directory)

    async def exits(self, process: ClocksvcProcess, line: str) -> None:
        """
        Assert that C{process} exits 2 with C{line} alone on standard error,
        and no traceback.
        """
        self.assertEqual(await within(process.exited, 30, "exit"), 2, process.stderr)
        self.assertNotIn(b"Traceback", process.stdout + process.stderr)
        self.assertEqual(process.stderr.decode(), line + "\n")

    async def test_missing(self) -> None:
        """
        A certificate that is not there, on an C{ssl:} endpoint or given
        with C{--tls-cert}, and a key that is no PEM key.
        """
        description = "ssl:0:privateKey=/nope.key:certKey=/nope.crt"
        await self.exits(
            spawnClocksvc("--listen", description),
            f"clocksvc: {description}: cannot read the certificate /nope.crt: no "
            "such file or directory",
        )
        await self.exits(
            spawnClocksvc("--tls-cert", "/nope.crt", "--tls-key", "/nope.key"),
            "clocksvc: cannot read the certificate /nope.crt: no such file or "
            "directory",
        )
        cert = self.credentials.certFile
        await self.exits(
            spawnClocksvc("--tls-cert", cert, "--tls-key", cert),
            f"clocksvc: the private key {cert} holds no PEM private key",
        )

    async def test_withoutPyOpenSSL(self) -> None:
        """
        Without pyOpenSSL, TLS is one line saying what to install.
        """
        process = ClocksvcProcess()
        env = {**os.environ, "PYTHONPATH": _IMPORT_ROOT}
        # As if it were not installed: an import of it fails.
        program = (
            "import runpy, sys; sys.modules['OpenSSL'] = None; "
            "sys.argv[0] = 'clocksvc'; "
            "runpy.run_module('clocksvc', run_name='__main__')"
        )
        args = ["--tls-cert", self.credentials.certFile]
        args += ["--tls-key", self.credentials.keyFile]
        reactor.spawnProcess(
            process, sys.executable, [sys.executable, "-c", program, *args], env=env
        )
        await self.exits(
            process,
            "clocksvc: TLS needs pyOpenSSL, which is not installed: pip install "
            "'clocksvc[http2]'",
        )

    async def test_reload(self) -> None:
        """
        SIGHUP reads C{--tls-cert} and C{--tls-key} again: a new connection
        gets the new certificate, while one opened before goes on with the
        old; files that cannot serve leave the certificate in use, with one
        log line.
        """
        ca = trustme.CA()
        cert = os.path.join(self.directory, "live.crt")
        key = os.path.join(self.directory, "live.key")
        first = ca.issue_cert("localhost", "127.0.0.1")
        _writeLeaf(first, cert, key)
        process = spawnClocksvc(
            "--tls-cert",
            cert,
            "--tls-key",
            key,
            "--listen",
            "ssl:0:interface=127.0.0.1",
        )

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        line = (await within(process.firstLine, 20, "the serving line")).decode()
        found = re.fullmatch(r"clocksvc: serving https://127\.0\.0\.1:(\d+)/", line)
        assert found is not None, (line, process.stderr)
        port = int(found.group(1))
        context = ssl.create_default_context(cadata=ca.cert_pem.bytes().decode())

        connections: list[HTTPSConnection] = []

        def connect() -> HTTPSConnection:
            connection = HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
            connections.append(connection)
            self.addCleanup(connection.close)
            return connection

        old = connect()
        serial = _serialOfLeaf(first)
        self.assertEqual(await deferToThread(_askOverTLS, old), serial)

        second = ca.issue_cert("localhost", "127.0.0.1")
        _writeLeaf(second, cert, key)
        process.signal("HUP")
        await _until(
            lambda: b'"event":"tls_reloaded"' in process.stdout, 20, "the reload"
        )
        new = connect()
        newSerial = _serialOfLeaf(second)
        self.assertEqual(await deferToThread(_askOverTLS, new), newSerial)
        # The connection opened before answers on, with its certificate.
        oldSocket = old.sock
        self.assertEqual(await deferToThread(_askOverTLS, old), serial)
        self.assertIs(old.sock, oldSocket)

        with open(cert, "wb") as f:
            f.write(b"half a certificate")
        process.signal("HUP")
        await _until(
            lambda: b'"event":"tls_reload_failed"' in process.stdout, 20, "the failure"
        )
        self.assertEqual(await deferToThread(_askOverTLS, connect()), newSerial)
        # Closed by the client: Twisted's TLS would wait for its close_notify
        # through the drain.
        for connection in connections:
            connection.close()
        process.signal("TERM")
        self.assertEqual(await within(process.exited, 20, "exit"), 0, process.stderr)
        failed = [
            json.loads(line)
            for line in process.stdout.splitlines()
            if b'"tls_reload_failed"' in line
        ]
        self.assertEqual(
            [(event["level"], event["message"]) for event in failed],
            [
                (
                    "warn",
                    f"kept the certificate in use: the certificate {cert} holds no "
                    "PEM certificate",
                )
            ],
        )
