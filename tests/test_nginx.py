"""
The shipped nginx example (C{deploy/nginx/clocksvc.conf}) under a real
nginx, in front of a real clocksvc run as C{deploy/systemd/clocksvc-unix.service}
runs it: a client that writes its own forwarding fields cannot choose the
address or scheme clocksvc reports (issue 22, item 4).

The nginx configuration is made from the shipped file: its C{upstream} and
its C{location /}, verbatim but for the socket's path, in a server of the
test's own on a free port of 127.0.0.1, over plain HTTP (the shipped server's
TLS certificate and port 443 are the operator's). A change to the shipped
proxy directives is so a change to what is tested.

Debian's C{nginx-light} provides nginx. Without it the tests are skipped,
unless C{CI} or C{CLOCKSVC_REQUIRE_NGINX} is set, when they fail.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure
from twisted.trial.unittest import FailTest, SkipTest, TestCase
from twisted.web.client import HTTPConnectionPool
from twisted.web.http_headers import Headers

from ._deploy import DEPLOY, only, parseArguments, unitSections, unixSocketPath
from ._geoip import writeDatabase
from ._helpers import eventually, within
from ._process import PATIENCE, ClocksvcProcess
from ._workers import startKillingWorkers

#: Set to fail, rather than skip, where nginx is not installed.
REQUIRE = "CLOCKSVC_REQUIRE_NGINX"

#: What the spoofing client sends, for nginx to pass on or not.
SPOOFED = {
    "Forwarded": "for=6.6.6.6;proto=https",
    "X-Forwarded-For": "6.6.6.6",
    "X-Forwarded-Proto": "https",
}


def nginxBinary() -> str:
    """
    @return: the path of nginx.
    @raise SkipTest: if it is not installed, and nothing requires it.
    """
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is not None:
        return found
    if os.environ.get("CI") or os.environ.get(REQUIRE):
        raise FailTest("nginx is not installed (Debian: apt-get install nginx-light)")
    raise SkipTest(
        f"nginx is not installed (Debian: apt-get install nginx-light); "
        f"{REQUIRE}=1 makes this a failure"
    )


def shippedUnit() -> dict[str, dict[str, list[str]]]:
    return unitSections(
        (DEPLOY / "systemd" / "clocksvc-unix.service").read_text(encoding="utf-8")
    )


def nginxConfig(shipped: str, socketPath: str, port: int, prefix: Path) -> str:
    """
    @param shipped: the text of C{deploy/nginx/clocksvc.conf}.
    @param socketPath: where clocksvc serves, for the upstream.
    @param port: where nginx is to listen, on 127.0.0.1.
    @param prefix: a directory for nginx's own files.
    @return: a whole nginx configuration around the shipped upstream and
        location.
    """
    upstream = re.search(r"^upstream clocksvc \{\n.*?^\}\n", shipped, re.M | re.S)
    location = re.search(r"^    location / \{\n.*?^    \}\n", shipped, re.M | re.S)
    if upstream is None or location is None:
        raise FailTest("no upstream clocksvc or location / in the shipped file")
    shippedPath = unixSocketPath(shippedUnit())
    server = f"server unix:{shippedPath};"
    if server not in upstream.group(0):
        raise FailTest(f"the shipped upstream has no {server!r}")
    temporary = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    )
    return f"""\
daemon off;
master_process off;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} notice;
events {{
    worker_connections 64;
}}
http {{
    access_log off;
{temporary}
{upstream.group(0).replace(server, f"server unix:{socketPath};")}
server {{
    listen 127.0.0.1:{port};
{location.group(0)}}}
}}
"""


def freePort() -> int:
    """
    @return: a TCP port of 127.0.0.1 that was free a moment ago.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def accepts(port: int) -> bool:
    """
    @return: whether something listens on C{port} of 127.0.0.1.
    """
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return False
    return True


class NginxProcess(ProcessProtocol):
    """
    nginx as a child process: what it writes, and when it exits.
    """

    def __init__(self) -> None:
        self.output = b""
        self.exited: Deferred[None] = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.output += data

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        if isinstance(reason.value, (ProcessDone, ProcessTerminated)):
            self.exited.callback(None)
        else:  # pragma: no cover (processEnded gives one of those)
            self.exited.errback(reason)


class ShippedNginxTests(TestCase):
    """
    A client through the shipped nginx example, to clocksvc as the shipped
    unit runs it.
    """

    timeout = 4 * PATIENCE

    async def serve(self, *extra: str) -> tuple[str, ClocksvcProcess, Path]:
        """
        Start clocksvc with the unit's arguments (its socket and log in a
        directory of the test's) and C{extra}, and nginx in front of it,
        both stopped when the test ends.

        @return: nginx's URL, clocksvc, and its access log.
        """
        binary = nginxBinary()
        # Short: a UNIX socket's path may not pass 108 bytes.
        workdir = Path(tempfile.mkdtemp(prefix="clocksvc-nginx-"))
        self.addCleanup(shutil.rmtree, workdir, True)
        socketPath = str(workdir / "clocksvc.sock")
        log = workdir / "access.log"
        unit = shippedUnit()
        argv = shlex.split(only(unit["Service"]["ExecStart"]))[3:]
        shipped = parseArguments(argv)
        argv = [
            arg.replace(unixSocketPath(unit), socketPath).replace(
                shipped["access-log"], str(log)
            )
            for arg in argv
        ]
        process = startKillingWorkers(self, *argv, *extra)
        line = (await within(process.firstLine, PATIENCE, "clocksvc")).decode()
        self.assertEqual(line, f"clocksvc: serving unix:{socketPath}", process.stderr)

        port = freePort()
        conf = workdir / "nginx.conf"
        conf.write_text(
            nginxConfig(
                (DEPLOY / "nginx" / "clocksvc.conf").read_text(encoding="utf-8"),
                socketPath,
                port,
                workdir,
            ),
            encoding="utf-8",
        )
        nginx = NginxProcess()
        reactor.spawnProcess(
            nginx,
            binary,
            [binary, "-p", str(workdir), "-c", str(conf), "-e", "stderr"],
            env=dict(os.environ),
        )

        async def stop() -> None:
            if not nginx.exited.called and nginx.transport is not None:
                nginx.transport.signalProcess("KILL")
            await nginx.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(stop()))
        await eventually(
            lambda: nginx.exited.called or accepts(port), PATIENCE, "nginx's port"
        )
        if nginx.exited.called:
            errors = workdir / "error.log"
            raise FailTest(
                f"nginx exited: {nginx.output!r} "
                f"{errors.read_text() if errors.exists() else ''}"
            )
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(self.pool.closeCachedConnections)
        return f"http://127.0.0.1:{port}/", process, log

    async def get(self, url: str, status: int = 200) -> bytes:
        """
        @return: the body of C{url}, asked for by a client that says it is
            6.6.6.6 over HTTPS, in every field it can.
        @raise FailTest: if it is not answered with C{status}.
        """
        response = await treq.get(
            url,
            headers=Headers({name: [value] for name, value in SPOOFED.items()}),
            pool=self.pool,
        )
        body: bytes = await response.content()
        self.assertEqual(response.code, status, body)
        return body

    async def stopped(self, process: ClocksvcProcess, log: Path) -> list[Any]:
        """
        Stop clocksvc.

        @return: its access log's lines, as JSON.
        """
        process.signal("TERM")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 0)
        return [
            json.loads(line)
            for line in log.read_text(encoding="utf-8").splitlines()
            if '"path"' in line
        ]

    async def test_spoofingClient(self) -> None:
        """
        Issue 22: through the shipped nginx, a client's own C{Forwarded},
        C{X-Forwarded-For} and C{X-Forwarded-Proto} change nothing: clocksvc
        reports the address nginx took the request from, 127.0.0.1, and the
        scheme nginx served, http, in C{/now}, C{/now.txt}, C{/api/ip} (which
        would give 6.6.6.6's zone) and the access log.
        """
        # A database that knows 6.6.6.6's zone: /api/ip answers it only if
        # the client is taken for 6.6.6.6; 127.0.0.1 it answers unknown.
        database = writeDatabase(
            self.mktemp(), {"6.6.6.0/24": {"location": {"time_zone": "Pacific/Apia"}}}
        )
        url, process, log = await self.serve("--geoip-db", database)
        document = json.loads(await self.get(url + "now"))
        self.assertEqual(document["client_ip"], "127.0.0.1")
        self.assertEqual(
            json.loads(await self.get(url + "api/ip", 404)),
            {"error": "unknown location"},
        )
        text = await self.get(url + "now.txt")
        self.assertIn(b"127.0.0.1", text)
        self.assertNotIn(b"6.6.6.6", text)
        access = await self.stopped(process, log)
        self.assertEqual(
            [(line["path"], line["client"], line["scheme"]) for line in access],
            [
                ("/now", "127.0.0.1", "http"),
                ("/api/ip", "127.0.0.1", "http"),
                ("/now.txt", "127.0.0.1", "http"),
            ],
        )

    async def test_forwardedCleared(self) -> None:
        """
        The shipped nginx clears a client's C{Forwarded}: with
        C{--forwarded-header forwarded}, which this nginx does not write,
        clocksvc finds none, and reports the socket's peer (no address) and
        scheme rather than the client's claim.
        """
        url, process, log = await self.serve("--forwarded-header", "forwarded")
        document = json.loads(await self.get(url + "now"))
        self.assertEqual(document["client_ip"], "")
        access = await self.stopped(process, log)
        self.assertEqual(
            [(line["client"], line["scheme"]) for line in access], [("", "http")]
        )
