# -*- test-case-name: tests.test_answers,tests.test_fastpath -*-
"""
What a resource is asked (L{Ask}) and what it answers (L{Answer}): the one
decision of each endpoint, made by its resource's C{answer} method, a pure
function of the request's method, the rest of its path, its query, its
C{Accept}, its client and its body (and of the clocks the resource reads).

Two paths carry a request to that decision and its answer back:

  - the general one: Twisted's L{Request}, the resource tree's traversal
    (each resource's L{Answering.childAt}), then C{render}, which builds the
    L{Ask} from the request (L{askOf}), calls C{answer} and applies the
    L{Answer} to the request (L{applyAnswer});
  - the quick one (L{QuickAnswers<clocksvc._web._quick.QuickAnswers>}):
    from a plain request head, the same traversal over the same
    L{Answering.childAt}, the same L{Ask}, the same C{answer}, and the
    answer written out as bytes.

Routing, query parsing, negotiation, the header fields and their order, and
the status are decided once, in C{answer}; the two paths only carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from twisted.internet.interfaces import IAddress
from twisted.web.http import RESPONSES, parse_qs
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET

from .._http import httpDate

__all__ = [
    "Answer",
    "Answering",
    "Args",
    "Ask",
    "Fields",
    "applyAnswer",
    "askOf",
    "bodyFor",
    "makeAnswer",
    "parseQuery",
    "queryArgs",
    "queryNames",
]

#: A query's parameters, each with its values in order (L{queryArgs}).
Args = Mapping[bytes, Sequence[bytes]]

#: Header fields, in order: each a name, as Twisted writes it (C{Headers}'
#: canonical capitals, such as C{X-Httpstime}), and a value.
Fields = tuple[tuple[bytes, bytes], ...]


class Ask(NamedTuple):
    """
    A request, as a resource's C{answer} sees it.

    @ivar method: its method.
    @ivar path: the segments of its path below the resource, each with its
        C{%} escapes undone, as Twisted's C{postpath} has them: C{()} for
        the resource's own path, C{(b"",)} for the path with a slash after
        it.
    @ivar query: its query, as sent (after the C{?}); empty if none.
    @ivar accept: its C{Accept} field, if it has one.
    @ivar client: the client's address, through trusted proxies.
    @ivar body: its body.
    """

    method: bytes
    path: tuple[bytes, ...]
    query: bytes
    accept: bytes | None
    client: IAddress | None
    body: bytes = b""


class Answer(NamedTuple):
    """
    A complete answer, but for C{Server}, C{Date} and C{Content-Length},
    which the paths write as Twisted does: C{Server} and C{Date} first, the
    length last (none for C{204}), the body left out for C{HEAD}.

    @ivar status: its status code.
    @ivar fields: its header fields, in order, after C{Date}; the quick
        path keeps a head by this object for a second, so a resource hands
        the same tuple for answers whose fields stay the same.
    @ivar body: its body.
    @ivar more: the fields after C{fields}, which change from one answer to
        the next (such as C{Server-Timing}).
    @ivar date: the instant its C{Date} gives, if the answer read the clock
        (so that the two agree); else the site's clock is read for it.
    @ivar reason: its reason phrase, if Twisted knows none for the status.
    """

    status: int
    fields: Fields
    body: bytes = b""
    more: Fields = ()
    date: float | None = None
    reason: bytes | None = None

    def phrase(self) -> bytes:
        """
        @return: the reason phrase of the status line, as Twisted writes it.
        """
        if self.reason is not None:
            return self.reason
        return RESPONSES.get(self.status, b"Unknown Status")


#: C{makeAnswer(Answer, (status, fields, body, more, date, reason))} makes
#: the answer that C{Answer(...)} does, every field given, at C's speed:
#: C{Answer}'s own constructor is a Python function, which costs the
#: answers most asked for a tenth of their time.
makeAnswer = tuple.__new__


class Answering(Resource):
    """
    A resource that the quick path and Twisted's traversal both ask the
    same things: which child a path segment names (L{childAt}), and the
    answer to a request for it (L{answer}). The resources of clocksvc's
    tree are answering ones; a resource mounted in place of one that is
    not (such as Twisted's C{static.Data}) is answered by the general path
    alone.

    @cvar generation: how many times a child was put in any answering
        resource: the quick path keeps the traversals of the paths it is
        asked for while it stays the same.
    """

    generation = 0

    def childAt(self, segment: bytes, deeper: bool) -> IResource:
        """
        @param segment: the next segment of a request's path.
        @param deeper: whether the path goes on after it.
        @return: the resource it names below this one: by default a child
            mounted there, else what L{missing} says.
        """
        child: IResource | None = self.children.get(segment)
        return self.missing(segment) if child is None else child

    def missing(self, segment: bytes) -> IResource:
        """
        @return: the resource for a segment that names no child.
        """
        raise NotImplementedError

    def getChildWithDefault(self, path: bytes, request: IRequest) -> IResource:
        """
        Twisted's traversal, by L{childAt}, as the quick path's is.
        """
        return self.childAt(path, bool(request.postpath))

    def putChild(self, path: bytes, child: IResource) -> None:
        """
        Mount C{child} at C{path}, as Twisted's C{Resource} does, and say
        that the tree changed (L{generation}).
        """
        super().putChild(path, child)
        Answering.generation += 1

    def answer(self, ask: Ask) -> Answer | None:
        """
        @return: the answer to C{ask}; or L{None} if only the request itself
            can be answered (a stream, or a page that names the URL the
            client used), which the general path then renders.
        """
        raise NotImplementedError


def askOf(request: IRequest) -> Ask:
    """
    @return: what C{request}, traversed to a resource, asks of it.
    """
    _, _, query = request.uri.partition(b"?")
    # Twisted's own requests have one; a test's stand-in may have none.
    content = getattr(request, "content", None)
    return Ask(
        request.method,
        tuple(request.postpath or ()),
        query,
        request.getHeader(b"accept"),
        request.getClientAddress(),
        b"" if content is None else content.getvalue(),
    )


def applyAnswer(request: IRequest, answer: Answer) -> bytes | int:
    """
    Set C{answer}'s status and fields on C{request}'s response.

    @return: the body, for C{render} to return (none to a C{HEAD}, with
        the C{Content-Length} of the body it leaves out); or
        C{NOT_DONE_YET} for a C{204}, finished here: Twisted would add
        C{Content-Length: 0} to a body returned, which RFC 9110 (section
        8.6) forbids on a C{204}.
    """
    request.setResponseCode(answer.status, answer.phrase())
    if answer.date is not None:
        request.setHeader(b"date", httpDate(answer.date))
    for name, value in answer.fields:
        request.setHeader(name, value)
    for name, value in answer.more:
        request.setHeader(name, value)
    if answer.status == 204:
        request.finish()
        return NOT_DONE_YET
    return bodyFor(request, answer.body)


def bodyFor(request: IRequest, body: bytes) -> bytes:
    """
    @return: C{body}, for C{render} to return; none to a C{HEAD}, with the
        C{Content-Length} of the body left out set here, as Twisted would
        set it, but without the event it emits to say it eats the body.
    """
    if request.method == b"HEAD":
        request.setHeader(b"content-length", b"%d" % len(body))
        return b""
    return body


#: The queries parsed, by their text: clients send the same few.
_parsed: dict[bytes, dict[bytes, list[bytes]]] = {}
#: How many it keeps, and the longest it keeps: a client cannot grow it
#: past 256 KiB.
_KEPT = 256
_LONGEST_KEPT = 1024
_NONE: Args = {}


def queryArgs(ask: Ask) -> Args:
    """
    @return: the parameters of C{ask}'s query (L{parseQuery}).
    """
    return parseQuery(ask.query)


def parseQuery(query: bytes) -> Args:
    """
    @return: the parameters of C{query}, each with its values in order, as
        Twisted's C{request.args} has them (bare names such as C{?iso} left
        out, C{+} and C{%} escapes undone, C{;} a separator too): read with
        Twisted's own parser, and kept for the next request that sends the
        same query.
    """
    if not query:
        return _NONE
    found = _parsed.get(query)
    if found is None:
        found = parse_qs(query, 1)
        if len(query) <= _LONGEST_KEPT:
            if len(_parsed) >= _KEPT:
                _parsed.clear()
            _parsed[query] = found
    return found


#: The names of the queries read, by their text, as L{_parsed} keeps their
#: parameters.
_named: dict[bytes, frozenset[bytes]] = {}


def queryNames(ask: Ask) -> frozenset[bytes]:
    """
    @return: the names in C{ask}'s query, with or without a value, as sent:
        L{queryArgs} leaves out bare names like C{?iso}.
    """
    query = ask.query
    found = _named.get(query)
    if found is None:
        found = frozenset(item.partition(b"=")[0] for item in query.split(b"&"))
        if len(query) <= _LONGEST_KEPT:
            if len(_named) >= _KEPT:
                _named.clear()
            _named[query] = found
    return found
