"""
Helpers shared by clocksvc's tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zoneinfo
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from treq.response import _Response
from treq.testing import StubTreq
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.endpoints import UNIXClientEndpoint
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IAddress, IListeningPort
from twisted.internet.task import Clock, deferLater
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import ILogObserver, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import FailTest, SynchronousTestCase
from twisted.web.client import URI
from twisted.web.iweb import IAgentEndpointFactory
from twisted.web.resource import IResource
from twisted.web.server import Site
from zope.interface import implementer

from clocksvc._clock._health import ClockState
from clocksvc._compiled import CORE, PURE_NOTICE
from clocksvc._http import ClockSite
from clocksvc._web import AccessLog

# The global reactor is imported only where a helper waits on it, when it
# is called: an entry point (tests.e2e._serve) imports this module before
# it runs a reactor of its own.

__all__ = [
    "SAID_CORE",
    "RawConnection",
    "StubClient",
    "UNIXEndpoints",
    "accessLogged",
    "capturedEvents",
    "clockAt",
    "dechunk",
    "eventually",
    "keepZoneDatabase",
    "siteOf",
    "socketPath",
    "stubTreq",
    "urlOf",
    "useTimezone",
    "within",
]

T = TypeVar("T")

#: 2001-09-09T01:46:40Z, the instant unix time reached one billion seconds.
BILLENNIUM = 1_000_000_000


#: A server clock that a time daemon keeps to within 1.25 ms.
SYNCHRONIZED = ClockState(True, 1.25, 0.5, "none", "ntp")
#: A server clock that nothing keeps right, as the kernel reports one.
UNSYNCHRONIZED = ClockState(False, 16000.0, 16000.0, "none", "none")


#: What clocksvc says of its core on standard error, once it serves: nothing
#: when the compiled core runs, and one line when pure Python does (the
#: pure suite, PyPy's).
SAID_CORE = "" if CORE == "compiled" else f"clocksvc: {PURE_NOTICE}\n"


def synchronized() -> ClockState:
    """
    A reader of the server clock's state: always L{SYNCHRONIZED}.
    """
    return SYNCHRONIZED


def clockAt(seconds: float) -> Clock:
    """
    @param seconds: seconds since the epoch.
    @return: a L{Clock} that says it is C{seconds}.
    """
    clock = Clock()
    clock.advance(seconds)
    return clock


def useTimezone(testCase: SynchronousTestCase, name: str) -> None:
    """
    Make the process's local time zone C{name} for the duration of a test, so
    that C{time.ctime} gives a known string.

    @param testCase: the test that needs it; the old zone is restored in its
        cleanup.
    @param name: an IANA zone name, such as C{"UTC"} or C{"Asia/Tokyo"}.
    """
    old = os.environ.get("TZ")

    def restore() -> None:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()

    os.environ["TZ"] = name
    time.tzset()
    testCase.addCleanup(restore)


def keepZoneDatabase(testCase: SynchronousTestCase) -> None:
    """
    Put back, when a test ends, the zone database C{zoneinfo} reads now:
    for a test that chooses one (L{useZoneDatabase
    <clocksvc._time.useZoneDatabase>}, as every L{ClockService
    <clocksvc._run._service.ClockService>} does), which is process-wide.

    @param testCase: the test.
    """
    tzpath = zoneinfo.TZPATH

    def restore() -> None:
        zoneinfo.reset_tzpath(to=tzpath)
        zoneinfo.ZoneInfo.clear_cache()

    testCase.addCleanup(restore)


class StubClient(Protocol):
    """
    The part of L{StubTreq} that the tests use.
    """

    def get(self, url: str, **kwargs: Any) -> Deferred[_Response]: ...

    def head(self, url: str, **kwargs: Any) -> Deferred[_Response]: ...

    def post(self, url: str, **kwargs: Any) -> Deferred[_Response]: ...

    def request(self, method: str, url: str, **kwargs: Any) -> Deferred[_Response]: ...


def stubTreq(resource: IResource) -> StubClient:
    """
    A treq client that talks to C{resource} in memory, through a real Agent
    and a real Site.
    """
    # StubTreq sets its methods at run time, so mypy cannot see them.
    return cast(StubClient, StubTreq(resource))


def urlOf(port: IListeningPort, path: str = "/") -> str:
    """
    @param port: a port listening on TCP.
    @param path: the path to add.
    @return: the URL of C{path} on that port.
    """
    address = port.getHost()
    if isinstance(address, IPv6Address):
        return f"http://[{address.host}]:{address.port}{path}"
    if not isinstance(address, IPv4Address):
        raise TypeError(f"not a TCP port: {address!r}")
    return f"http://{address.host}:{address.port}{path}"


def siteOf(reactor: MemoryReactorClock, index: int = 0) -> ClockSite:
    """
    @return: the site behind the C{index}th port that listened on C{reactor}.
    """
    factory = reactor.tcpServers[index][1]
    if not isinstance(factory, ClockSite):
        raise TypeError(f"not a Site: {factory!r}")
    return factory


def accessLogged(site: ClockSite) -> bool:
    """
    @return: whether C{site} logs each request it answers: whether an
        L{AccessLog} is among its reporters.
    """
    return any(isinstance(reporter, AccessLog) for reporter in site.reporters)


class RawConnection:
    """
    One HTTP connection to a real L{Site}, over a L{StringTransport}: for
    responses that stream, and for what happens when the client goes away.
    """

    def __init__(self, site: Site, address: IAddress | None = None) -> None:
        """
        @param site: the site to connect to.
        @param address: the client's address; by default 127.0.0.1.
        """
        if address is None:
            address = IPv4Address("TCP", "127.0.0.1", 54321)
        self.protocol = site.buildProtocol(address)
        self.transport = StringTransport(peerAddress=address)
        self.protocol.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        """
        Send C{data} to the server.
        """
        self.protocol.dataReceived(data)

    def received(self) -> bytes:
        """
        @return: everything the server sent since the last call.
        """
        data: bytes = self.transport.value()
        self.transport.clear()
        return data

    def disconnect(self) -> None:
        """
        Go away, as a client that closes its tab does.
        """
        self.protocol.connectionLost(Failure(ConnectionDone()))


def dechunk(data: bytes) -> bytes:
    """
    @param data: a run of complete chunks of a chunked body.
    @return: the data they carry.
    """
    body = b""
    while data:
        size, _, rest = data.partition(b"\r\n")
        length = int(size, 16)
        body += rest[:length]
        data = rest[length + 2 :]
    return body


@implementer(IAgentEndpointFactory)
class UNIXEndpoints:
    """
    An Agent's endpoint factory that connects every request to one UNIX
    socket, for treq against a server on C{unix:PATH}.
    """

    def __init__(self, path: str) -> None:
        self._path = path

    def endpointForURI(self, uri: URI) -> UNIXClientEndpoint:
        from twisted.internet import reactor

        return UNIXClientEndpoint(reactor, self._path)


def capturedEvents(testCase: SynchronousTestCase) -> list[dict[str, Any]]:
    """
    @return: a list that each event of the service log is added to, for
        the rest of C{testCase}.
    """
    events: list[dict[str, Any]] = []

    @implementer(ILogObserver)
    def observe(event: dict[str, Any]) -> None:
        if event.get("log_namespace") == "clocksvc.service":
            events.append(event)

    globalLogPublisher.addObserver(observe)
    testCase.addCleanup(globalLogPublisher.removeObserver, observe)
    return events


def socketPath(testCase: SynchronousTestCase) -> str:
    """
    @return: a path for a UNIX socket in a new directory, removed with all
        in it when the test ends. Not under trial's temporary directory,
        whose paths can outgrow the 108 bytes a socket's path may have.
    """
    directory = tempfile.mkdtemp(prefix="clocksvc-test-")
    testCase.addCleanup(shutil.rmtree, directory, ignore_errors=True)
    return os.path.join(directory, "clocksvc.sock")


async def within(d: Deferred[T], seconds: float, what: str) -> T:
    """
    Wait for C{d}, which others may wait for too, at most C{seconds}.

    @param what: what is awaited, for the failure's message.
    @raise FailTest: if it takes longer; C{d} itself is left as it is, so
        that a cleanup can still wait for it.
    """
    from twisted.internet import reactor

    copy: Deferred[T] = Deferred()

    def relay(result: Any) -> Any:
        if not copy.called:
            copy.callback(result)
        return result

    d.addBoth(relay)
    copy.addTimeout(seconds, reactor)
    try:
        return await copy
    except TimeoutError:
        raise FailTest(f"{what}: nothing after {seconds:g} s") from None


async def eventually(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """
    Wait until C{condition()} is true, polling, at most C{seconds}.
    """
    from twisted.internet import reactor

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise FailTest(f"{what}: not after {seconds:g} s")
        await deferLater(reactor, 0.05, lambda: None)
