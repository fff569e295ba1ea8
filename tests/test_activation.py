"""
Tests for the ways clocksvc gets its socket other than a TCP port of its
own, run as a user runs them: C{--listen unix:PATH}, and systemd socket
activation (C{--listen systemd:...}) with this test standing in for
systemd, which holds the listening socket and passes it to each start of
the service as descriptor 3.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import AlreadyListened
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool

from clocksvc._run._adopted import SystemdEndpoint

from ._helpers import UNIXEndpoints, socketPath, within
from ._openapi import validateResponse
from ._process import ClocksvcProcess, curl, spawnActivated, spawnClocksvc

#: The lesson's page for any instant.
PAGE = re.compile(
    rb"<html><body>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}</body></html>"
)


class _Stopper:
    """
    Ends the child processes a test started and has not ended itself.
    """

    def __init__(self, testCase: TestCase) -> None:
        self._processes: list[ClocksvcProcess] = []
        testCase.addCleanup(lambda: Deferred.fromCoroutine(self._killAll()))

    def add(self, process: ClocksvcProcess) -> ClocksvcProcess:
        self._processes.append(process)
        return process

    async def _killAll(self) -> None:
        for process in self._processes:
            process.signal("KILL")
            await process.exited


async def firstLine(process: ClocksvcProcess) -> str:
    """
    @return: the first line the process writes, within 10 s.
    """
    return (await within(process.firstLine, 10, "the first line")).decode()


async def stop(testCase: TestCase, process: ClocksvcProcess) -> None:
    """
    Stop the process with SIGTERM, as systemd does, and check that it
    exits 0 within 5 s.
    """
    process.signal("TERM")
    testCase.assertEqual(await within(process.exited, 5, "exit"), 0, process.stderr)


class UNIXSocketTests(TestCase):
    """
    C{python -m clocksvc --listen unix:PATH}.
    """

    timeout = 20

    def setUp(self) -> None:
        self.stopper = _Stopper(self)
        self.path = socketPath(self)

    async def test_serves(self) -> None:
        """
        It says where it serves, answers curl there with a time document
        whose C{client_ip} is empty (a UNIX socket's client has no IP
        address), and answers treq with the lesson's page; SIGTERM stops it
        with status 0 and removes the socket.
        """
        process = self.stopper.add(
            spawnClocksvc("--access-log", "off", "--listen", f"unix:{self.path}")
        )
        self.assertEqual(
            await firstLine(process), f"clocksvc: serving unix:{self.path}"
        )
        now = await curl("--unix-socket", self.path, "http://localhost/now")
        self.assertEqual((now.exitCode, now.status), (0, 200), now.stderr)
        document = json.loads(now.body)
        self.assertEqual(document["client_ip"], "")
        self.assertEqual(document["timezone"], "UTC")
        validateResponse("GET", "/now", 200, now.contentType(), now.body)

        pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(pool.closeCachedConnections)
        agent = Agent.usingEndpointFactory(reactor, UNIXEndpoints(self.path), pool=pool)
        response = await HTTPClient(agent).get("http://localhost/")
        self.assertEqual(response.code, 200)
        self.assertRegex(await response.content(), PAGE)

        await stop(self, process)
        self.assertFalse(os.path.exists(self.path))

    async def test_afterCrash(self) -> None:
        """
        After a clocksvc killed outright, which leaves its socket file
        behind, the next one takes the path over.
        """
        description = f"unix:{self.path}"
        crashed = self.stopper.add(
            spawnClocksvc("--access-log", "off", "--listen", description)
        )
        await firstLine(crashed)
        crashed.signal("KILL")
        await within(crashed.exited, 5, "exit after SIGKILL")
        self.assertTrue(stat.S_ISSOCK(os.stat(self.path).st_mode))

        process = self.stopper.add(
            spawnClocksvc("--access-log", "off", "--listen", description)
        )
        self.assertEqual(
            await firstLine(process), f"clocksvc: serving {description}", process.stderr
        )
        now = await curl("--unix-socket", self.path, "http://localhost/now")
        self.assertEqual(now.status, 200)
        await stop(self, process)


class SystemdTests(TestCase):
    """
    Socket activation: the test holds a listening socket, as systemd does,
    and starts clocksvc with it as descriptor 3 and C{LISTEN_FDS},
    C{LISTEN_FDNAMES} and C{LISTEN_PID} set as systemd sets them.
    """

    timeout = 20

    def setUp(self) -> None:
        self.stopper = _Stopper(self)

    def listeningSocket(
        self, family: socket.AddressFamily, address: str | tuple[str, int]
    ) -> socket.socket:
        """
        @return: a socket listening on C{address}, closed when the test
            ends.
        """
        held = socket.socket(family, socket.SOCK_STREAM)
        self.addCleanup(held.close)
        held.bind(address)
        held.listen(16)
        return held

    def activate(self, held: socket.socket, *args: str) -> ClocksvcProcess:
        """
        Start C{python -m clocksvc} with C{args}, as systemd starts a service
        for the socket C{held}, named C{clocksvc}; stopped when the test ends.
        """
        return self.stopper.add(spawnActivated(held, *args))

    async def test_tcp(self) -> None:
        """
        clocksvc serves on the TCP socket it is given and says so; SIGTERM
        stops it with status 0, leaving the socket to systemd, which queues
        new connections until the next start answers them.
        """
        held = self.listeningSocket(socket.AF_INET, ("127.0.0.1", 0))
        port = held.getsockname()[1]
        args = ["--access-log", "off", "--listen"]
        first = self.activate(held, *args, "systemd:domain=INET:index=0")
        self.assertEqual(
            await firstLine(first),
            f"clocksvc: serving http://127.0.0.1:{port}/",
            first.stderr,
        )
        page = await curl(f"http://127.0.0.1:{port}/")
        self.assertEqual((page.exitCode, page.status), (0, 200), page.stderr)
        self.assertRegex(page.body, PAGE)
        await stop(self, first)

        # Between two starts the socket still listens: a request made now
        # waits in its queue.
        waiting = Deferred.fromCoroutine(curl(f"http://127.0.0.1:{port}/now"))
        second = self.activate(held, *args, "systemd:domain=INET:name=clocksvc")
        await firstLine(second)
        now = await waiting
        self.assertEqual((now.exitCode, now.status), (0, 200), now.stderr)
        self.assertEqual(json.loads(now.body)["client_ip"], "127.0.0.1")
        await stop(self, second)

    async def test_unix(self) -> None:
        """
        clocksvc serves on the UNIX socket it is given.
        """
        path = socketPath(self)
        held = self.listeningSocket(socket.AF_UNIX, path)
        process = self.activate(
            held, "--access-log", "off", "--listen", "systemd:domain=UNIX:index=0"
        )
        self.assertEqual(await firstLine(process), f"clocksvc: serving unix:{path}")
        now = await curl("--unix-socket", path, "http://localhost/now")
        self.assertEqual((now.exitCode, now.status), (0, 200), now.stderr)
        self.assertEqual(json.loads(now.body)["client_ip"], "")
        await stop(self, process)

    async def test_unixSocketLeftAlone(self) -> None:
        """
        The UNIX socket is systemd's: clocksvc keeps the permissions it was
        made with (C{SocketMode=0660}) and leaves it in place when it stops,
        so that the service's next start serves on it again.
        """
        path = socketPath(self)
        held = self.listeningSocket(socket.AF_UNIX, path)
        os.chmod(path, 0o660)
        args = ["--access-log", "off", "--listen", "systemd:domain=UNIX:index=0"]
        first = self.activate(held, *args)
        self.assertEqual(await firstLine(first), f"clocksvc: serving unix:{path}")
        self.assertEqual(oct(stat.S_IMODE(os.stat(path).st_mode)), oct(0o660))
        await stop(self, first)
        self.assertTrue(os.path.exists(path), "the socket file was removed")
        second = self.activate(held, *args)
        line = await firstLine(second)
        self.assertEqual(line, f"clocksvc: serving unix:{path}", second.stderr)
        now = await curl("--unix-socket", path, "http://localhost/now")
        self.assertEqual((now.exitCode, now.status), (0, 200), now.stderr)
        await stop(self, second)

    async def test_noSocket(self) -> None:
        """
        C{systemd:} without a socket from systemd is an endpoint clocksvc
        cannot use: one line on standard error and exit status 2, which
        C{RestartPreventExitStatus=2} keeps systemd from restarting.
        """
        process = self.stopper.add(
            spawnClocksvc("--listen", "systemd:domain=INET:index=0")
        )
        code = await within(process.exited, 10, "exit")
        self.assertNotIn(b"Traceback", process.stderr)
        self.assertEqual(process.stderr.count(b"\n"), 1, process.stderr)
        self.assertTrue(process.stderr.startswith(b"clocksvc: "), process.stderr)
        self.assertEqual(code, 2)


class SystemdEndpointTests(SynchronousTestCase):
    """
    L{SystemdEndpoint} serves systemd's socket once, as it is.
    """

    def test_once(self) -> None:
        """
        A TCP socket is adopted by the reactor; a second listen fails, rather
        than adopt whatever file has its descriptor's number by then.
        """
        held = socket.socket()
        self.addCleanup(held.close)
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        memory = MemoryReactorClock()
        endpoint = SystemdEndpoint(memory, os.dup(held.fileno()), socket.AF_INET)
        self.successResultOf(endpoint.listen(Factory()))
        self.assertEqual(len(memory.adoptedPorts), 1)
        self.failureResultOf(endpoint.listen(Factory()), AlreadyListened)

    def test_notASocket(self) -> None:
        """
        A descriptor that is no socket, or a reactor that cannot adopt it,
        fails the listen.
        """
        read, write = os.pipe()
        self.addCleanup(os.close, read)
        self.addCleanup(os.close, write)
        endpoint = SystemdEndpoint(MemoryReactorClock(), read, socket.AF_INET)
        self.failureResultOf(endpoint.listen(Factory()), OSError)
        held = socket.socket()
        self.addCleanup(held.close)
        endpoint = SystemdEndpoint(object(), os.dup(held.fileno()), socket.AF_INET)
        self.failureResultOf(endpoint.listen(Factory()), AttributeError)
