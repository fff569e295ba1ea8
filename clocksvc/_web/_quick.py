# -*- test-case-name: tests.test_fastpath,tests.test_equivalence -*-
"""
Quick answers: a plain request head (L{QuickHead}: a C{GET} or C{HEAD}
over HTTP/1.1, or a C{POST} with a small body, with nothing that changes
how the connection is handled) answered by its resource without Twisted's
L{Request}, header objects and response writing.

Nothing is decided here. The head goes down the resource tree by the same
steps as Twisted's traversal (each resource's
L{childAt<clocksvc._web._answer.Answering.childAt>}), becomes the same
L{Ask} that C{render} builds from a request, and gets the same L{Answer}
from the resource's own C{answer}: routing, query parsing, negotiation,
the fields and their order, and the status are the resource's, for the
general path and this one alike. What is left here is writing the answer
out: C{Server} and C{Date} first, as Twisted's request sets them, the
C{Content-Length} last, the body unless the request is a C{HEAD}; and the
head of an answer kept for the second, as its C{Date} changes only once a
second and its fields are the same tuple while they stay the same.

The quick path steps aside, for the resource tree to answer, where it
cannot carry a request: a target that is not a path (C{*}, absolute form),
a resource that is not one of clocksvc's answering ones (one mounted in
place of clocksvc's own, such as Twisted's C{static.Data}), and an answer
that only the request itself can give (C{/stream}'s events, the C{/live}
page that names the URL the client used), which C{answer} says with
L{None}. C{OPTIONS}, HTTP/1.0, HTTP/2 and bodies over 1 KiB never come
here: the HTTP layer's quick heads leave them out.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.web.resource import Resource

from .._http import SERVER_HEADER, QuickHead, QuickResponse, httpDate, responseHead
from ._answer import Answer, Answering, Ask, Fields, makeAnswer

__all__ = ["QuickAnswers"]

#: Where a path leads (L{QuickAnswers._route}).
_Route = tuple[int, "Answering | None", tuple[bytes, ...]]


class QuickAnswers:
    """
    The quick answers of a resource tree: its answering resources' own.
    """

    #: How many heads it keeps: an answer's fields are one of a few dozen
    #: tuples, but errors may bring more.
    _HEADS_KEPT = 256

    #: How many paths' traversals it keeps, and the longest path kept: a
    #: client cannot grow them past 256 KiB.
    _ROUTES_KEPT = 1024
    _LONGEST_ROUTE = 256

    def __init__(self, wallClock: IReactorTime, root: Resource) -> None:
        """
        @param wallClock: the time of day, for the C{Date} of an answer that
            read no clock.
        @param root: the root of the resource tree.
        """
        self._wallClock = wallClock
        self._root = root
        # An answer's head but the fields after its own and its length, by
        # the identity of its fields: with those fields (which the entry
        # keeps alive, so that no other tuple takes their identity), its
        # status, and the second of its Date.
        self._heads: dict[int, _Head] = {}
        self._routes: dict[bytes, _Route] = {}

    def answer(self, head: QuickHead, peer: IAddress) -> QuickResponse | None:
        """
        The site's quick answer (L{QuickAnswer<clocksvc._http.QuickAnswer>}).

        @param head: the request.
        @param peer: the client's address, through trusted proxies.
        @return: the complete response to C{head}, with the length of its
            body and its status; or L{None} to leave the request to the
            resource tree.
        """
        method, target, accept, _, body = head
        path, _, query = target.partition(b"?")
        found = self._routes.get(path)
        if found is None or found[0] != Answering.generation:
            found = self._route(path)
        _, resource, below = found
        if resource is None:
            return None
        answer = resource.answer(
            makeAnswer(Ask, (method, below, query, accept, peer, body))
        )
        if answer is None:
            return None
        return self._written(method, answer)

    def _route(self, path: bytes) -> _Route:
        """
        Go down the tree for C{path}, as Twisted's traversal
        (C{Resource.getChildForRequest}) does, by each resource's
        L{childAt<clocksvc._web._answer.Answering.childAt>}; and keep where
        it led, for as long as no child is put in the tree.

        @return: the tree's generation, the answering resource that C{path}
            leads to (L{None} if it leads to another, or is not a path),
            and the segments of C{path} below it.
        """
        resource: object = None
        segments: list[bytes] = []
        taken = 0
        if path[:1] == b"/":
            # Not *, nor a target in absolute form, which the request
            # rewrites.
            segments = path[1:].split(b"/")
            if b"%" in path:
                # As Twisted's request reads a path: each segment unescaped.
                segments = [unquote_to_bytes(segment) for segment in segments]
            resource = self._root
            count = len(segments)
            while taken < count and isinstance(resource, Answering):
                if resource.isLeaf:
                    break
                taken += 1
                resource = resource.childAt(segments[taken - 1], taken < count)
        found: _Route = (
            Answering.generation,
            resource if isinstance(resource, Answering) else None,
            tuple(segments[taken:]),
        )
        if len(path) <= self._LONGEST_ROUTE:
            if len(self._routes) >= self._ROUTES_KEPT:
                self._routes.clear()
            self._routes[path] = found
        return found

    def _written(self, method: bytes, answer: Answer) -> QuickResponse:
        """
        @return: C{answer} as Twisted's request writes it: C{Server}, then
            C{Date}, then its fields, then C{Content-Length} (none on a
            C{204}); and its body, unless C{method} is C{HEAD}.
        """
        status, fields, body, more, date, _ = answer
        if date is None:
            date = self._wallClock.seconds()
        second = int(date)
        kept = self._heads.get(id(fields))
        if (
            kept is None
            or kept.fields is not fields
            or kept.second != second
            or kept.status != status
        ):
            # All of the head but the fields after these and the empty
            # line that ends it.
            kept = _Head(
                fields,
                status,
                second,
                responseHead(
                    status,
                    [(b"Server", SERVER_HEADER), (b"Date", httpDate(date)), *fields],
                    answer.phrase(),
                )[:-2],
            )
            if len(self._heads) >= self._HEADS_KEPT:
                self._heads.clear()
            self._heads[id(fields)] = kept
        elif kept.body is body and kept.method == method and not more:
            # The same answer as the last one, as the page is all second
            # long: as it was written then.
            return kept.written
        head = kept.start
        for name, value in more:
            head += name + b": " + value + b"\r\n"
        if status == 204:
            written = makeAnswer(QuickResponse, (head + b"\r\n", 0, status))
        else:
            length = len(body)
            ending = _ENDINGS.get(length)
            if ending is None:
                if len(_ENDINGS) >= 256:
                    _ENDINGS.clear()
                ending = _ENDINGS[length] = b"Content-Length: %d\r\n\r\n" % length
            head += ending
            if method == b"HEAD":
                written = makeAnswer(QuickResponse, (head, 0, status))
            else:
                written = makeAnswer(QuickResponse, (head + body, length, status))
        kept.body, kept.method, kept.written = body, method, written
        return written


class _Head:
    """
    A head kept for the second: its status line, C{Server}, C{Date} and
    the answer's fields; and the last answer written with it, whole.
    """

    __slots__ = ("body", "fields", "method", "second", "start", "status", "written")

    def __init__(self, fields: Fields, status: int, second: int, start: bytes):
        self.fields = fields
        self.status = status
        self.second = second
        self.start = start
        self.body: bytes | None = None
        self.method = b""
        self.written = _NOTHING


_NOTHING = QuickResponse(b"", 0)
#: The end of a head, by the length of its body: the same few lengths
#: come again and again.
_ENDINGS: dict[int, bytes] = {}
