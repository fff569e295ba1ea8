"""
The private names of Twisted's that clocksvc leans on, where no public API
serves, each checked here for what clocksvc relies on: a Twisted upgrade
that changes one fails here, by name, rather than somewhere far away.

  - C{FileDescriptor._tempDataBuffer} (L{clocksvc._http._channel}
    C{ClockChannel.writeNow}): whether a transport holds unsent data;
  - C{twisted.web._http2.H2Connection} (L{clocksvc._http._h2}
    C{ClockH2Connection}): Twisted's HTTP/2, offered only through its own
    private channel wrapper, which clocksvc subclasses; with its
    C{_tryToWriteControlData} (write what h2 has to send, behind what the
    client has not taken) and C{connectionLost}'s C{_cancelTimeouts} (end
    the streams, keep the timers, as Twisted ends a connection itself);
  - C{twisted.internet.tcp._reservedFD} and C{Port._shouldShutdown}
    (L{clocksvc._run._adopted}): a port on a UNIX socket that another
    process made and keeps (systemd, a supervisor);
  - C{twisted.internet.endpoints._parse} (L{clocksvc._run._endpoints}):
    an endpoint description split as Twisted's parser splits it, so that
    what is wrong with one can be said in its own terms.

And one behaviour that no interface promises: that a reactor reads the time
through its own C{seconds()} to schedule, so that replacing it on the
instance (L{clocksvc._clock._reactors.useMonotonicTime}) moves every timer to
another clock.
"""

from __future__ import annotations

import inspect

from twisted.internet import abstract, endpoints, tcp, unix
from twisted.internet.selectreactor import SelectReactor
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase


class PrivateNamesTests(SynchronousTestCase):
    """
    Each private name still means what clocksvc takes it to mean.
    """

    def test_tempDataBuffer(self) -> None:
        """
        A file descriptor's unsent writes are in C{dataBuffer} or
        C{_tempDataBuffer}: a write to one with nothing sent is in the
        latter.
        """
        descriptor = abstract.FileDescriptor(MemoryReactorClock())
        descriptor.connected = True
        self.assertEqual((descriptor.dataBuffer, descriptor._tempDataBuffer), (b"", []))
        descriptor.startWriting = lambda: None  # type: ignore[method-assign]
        descriptor.write(b"unsent")
        self.assertEqual(descriptor._tempDataBuffer, [b"unsent"])

    def test_h2Connection(self) -> None:
        """
        Twisted's HTTP/2 connection takes a reactor, and the attributes its
        own channel wrapper sets on it before it connects; it reads through
        its C{conn}'s C{receive_data} (the h2 connection, which clocksvc's
        replaces), lets a stream go on a C{StreamReset} event, and has the
        methods clocksvc calls and overrides.
        """
        try:
            from twisted.web._http2 import H2Connection
        except ImportError:
            raise SkipTest("the h2 package is not installed") from None
        clock = MemoryReactorClock()
        connection = H2Connection(clock)
        for name in ["requestFactory", "site", "factory", "timeOut", "callLater"]:
            setattr(connection, name, None)
        self.assertTrue(callable(connection.makeConnection))
        self.assertTrue(callable(connection.dataReceived))
        # It scheduled its sending loop on the reactor given.
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        self.assertIn(
            "self.conn.receive_data(data)", inspect.getsource(H2Connection.dataReceived)
        )
        self.assertIn("StreamReset", inspect.getsource(H2Connection.dataReceived))
        self.assertIn("_requestDone", inspect.getsource(H2Connection._requestAborted))
        for name in [
            "streams",
            "abortTimeout",
            "abortRequest",
            "endRequest",
            "timeoutConnection",
            "_tryToWriteControlData",
        ]:
            self.assertTrue(hasattr(connection, name), name)
        self.assertIn(
            "_cancelTimeouts",
            inspect.signature(H2Connection.connectionLost).parameters,
        )

    def test_reservedFD(self) -> None:
        """
        Twisted's ports keep a descriptor in reserve, for when accept() runs
        out, through C{tcp._reservedFD}.
        """
        self.assertTrue(callable(tcp._reservedFD.reserve))
        self.assertIn(
            "_reservedFD.reserve()", inspect.getsource(tcp.Port.startListening)
        )

    def test_shouldShutdown(self) -> None:
        """
        A UNIX port shuts its socket down when it stops (which would stop it
        in every process that shares it) only if C{_shouldShutdown}.
        """
        self.assertTrue(unix.Port._shouldShutdown)
        self.assertIn("_shouldShutdown", inspect.getsource(unix.Port._closeSocket))

    def test_parse(self) -> None:
        """
        Twisted's tokenizer of endpoint descriptions gives the values after
        the type by position, and those written C{name=value} by name, with
        backslashes taken as escapes; its server parser calls it.
        """
        self.assertEqual(
            endpoints._parse("tcp:80:interface=\\:\\:1:backlog=5"),
            (["tcp", "80"], {"interface": "::1", "backlog": "5"}),
        )
        self.assertEqual(endpoints._parse(""), ([""], {}))
        self.assertIn("_parse(description)", inspect.getsource(endpoints._parseServer))

    def test_reactorSeconds(self) -> None:
        """
        A reactor stamps its delayed calls, computes how long to wait for
        the next, and decides which are due, all by its instance's
        C{seconds()}.
        """
        reactor = SelectReactor()
        self.addCleanup(reactor.waker.connectionLost, None)
        self.addCleanup(reactor.removeReader, reactor.waker)
        now = [100.0]
        reactor.seconds = lambda: now[0]
        ran: list[int] = []
        call = reactor.callLater(5, ran.append, 1)
        self.assertEqual((call.getTime(), reactor.timeout()), (105.0, 5.0))
        now[0] = 104.9
        reactor.runUntilCurrent()
        self.assertEqual(ran, [])
        now[0] = 105.0
        reactor.runUntilCurrent()
        self.assertEqual(ran, [1])
