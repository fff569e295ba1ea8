"""
Tests for L{clocksvc._run._worker}: a worker of C{--workers}, its
endpoints and its link to the supervisor, in memory.
"""

from __future__ import annotations

import socket

from twisted.internet.error import ReactorNotRunning
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._run._endpoints import Problem
from clocksvc._run._worker import READY, Worker, hungUp


class StoppingReactor(MemoryReactorClock):
    """
    A memory reactor that stops once, as a real one does: asked again, it
    is not running.
    """

    stops = 0

    def stop(self) -> None:
        if self.stops:
            raise ReactorNotRunning()
        self.stops += 1


class WorkerTests(SynchronousTestCase):
    """
    L{Worker}: a worker's endpoints and its link to the supervisor.
    """

    def test_endpoints(self) -> None:
        """
        Each description gets its descriptor; C{-} is one another worker
        serves.
        """
        worker = Worker(MemoryReactorClock(), [3, None], 9)
        public, admin = worker.endpoints(["tcp:80"], ["tcp:9100"])
        self.assertEqual([d for d, _ in public], ["tcp:80"])
        self.assertEqual(admin, [])
        worker = Worker(MemoryReactorClock(), [3, 4], 9)
        public, admin = worker.endpoints(["tcp:80"], ["tcp:9100"])
        self.assertEqual([d for d, _ in admin], ["tcp:9100"])

    def test_endpointsMismatch(self) -> None:
        """
        A descriptor short, or one over, is a problem.
        """
        for fds in ([3], [3, 4, 5]):
            worker = Worker(MemoryReactorClock(), fds, 9)
            self.assertRaises(Problem, worker.endpoints, ["tcp:80"], ["tcp:9100"])

    def link(self, memory: MemoryReactorClock, serving: bool) -> StringTransport:
        """
        Make a worker, watching its link to the supervisor in C{memory}, and
        have it serve if C{serving}; then its supervisor goes away.

        @return: the transport of the worker's end of the link.
        """
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        requested: list[None] = []
        self.requested = requested
        worker = Worker(memory, [], theirs.detach())
        adopted = len(memory.adoptedStreamConnections)
        worker.watch()
        worker.watch()
        [(_, family, factory)] = memory.adoptedStreamConnections[adopted:]
        self.assertEqual(family, socket.AF_UNIX)
        link = factory.buildProtocol(None)
        transport = StringTransport()
        link.makeConnection(transport)
        self.assertEqual(transport.value(), b"")
        if serving:
            worker.serving(lambda: requested.append(None), handleSignals=False)
        link.connectionLost(Failure(ConnectionError()))
        worker.stop()
        return transport

    def test_link(self) -> None:
        """
        A worker watches its link from the start, says it is ready on it
        once it serves, and then stops once, whether the supervisor goes
        away or it is asked again; the reactor it leaves to the drain.
        """
        memory = StoppingReactor()
        transport = self.link(memory, serving=True)
        self.assertEqual(transport.value(), READY)
        self.assertEqual((self.requested, memory.stops), ([None], 0))

    def test_linkBeforeServing(self) -> None:
        """
        A worker whose supervisor goes away before it serves stops the
        reactor: it has nothing to drain; and if the reactor is stopping
        already, that is all.
        """
        memory = StoppingReactor()
        transport = self.link(memory, serving=False)
        self.assertEqual((transport.value(), self.requested), (b"", []))
        self.assertEqual(memory.stops, 1)
        self.link(memory, serving=False)
        self.assertEqual(memory.stops, 1)

    def test_hungUp(self) -> None:
        """
        L{hungUp} says whether the other end of the link is closed, without
        reading from it.
        """
        ours, theirs = socket.socketpair()
        self.addCleanup(theirs.close)
        self.assertFalse(hungUp(theirs.fileno()))
        ours.close()
        self.assertTrue(hungUp(theirs.fileno()))
