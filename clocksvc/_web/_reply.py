# -*- test-case-name: tests.test_timeapi,tests.test_coordinates -*-
"""
An answer as a value: its status, its header fields in order and its body.

The endpoints of timeapi.io's and time.now's shapes and C{/api/coordinates}
each decide a request in one pure function of its method, the rest of its
path, its query, its C{Accept}, its client and its body (and the clock's
reading), which returns a L{Reply}; their resources only carry a Twisted
request to that function and its reply back (L{applyReply}). A quick
answer can call the same function on a request's head and write the same
reply as bytes, so the two paths cannot disagree.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from twisted.web.iweb import IRequest

from ._answer import Answer, Ask, applyAnswer, askOf, parseQuery
from ._clockhealth import UNKNOWN, ClockHealth
from ._resource import JSON_TYPE, TIME_FIELDS

__all__ = [
    "Asked",
    "Fields",
    "Reply",
    "applyReply",
    "askedOf",
    "clockStatusOf",
    "jsonBody",
    "queryArgs",
    "timeFields",
]

#: Header fields, in order: each a name, as Twisted writes it, and a value.
Fields = tuple[tuple[bytes, bytes], ...]


class Reply(NamedTuple):
    """
    A complete answer, but for C{Server}, C{Date} and C{Content-Length},
    which the HTTP layer writes.

    @ivar status: its status code.
    @ivar fields: its header fields, in order.
    @ivar body: its body (left out for C{HEAD} by the layer that writes it).
    @ivar reason: its reason phrase, where Twisted knows none for the status.
    """

    status: int
    fields: Fields
    body: bytes = b""
    reason: bytes | None = None


#: A request, as the pure functions take it: the same as every resource's
#: L{Ask}, so that their answers can move onto the quick path unchanged.
Asked = Ask


def askedOf(request: IRequest, path: tuple[bytes, ...]) -> Asked:
    """
    @param path: the segments of the request's path that its function is
        given.
    @return: what C{request} asks (L{askOf}), with that path.
    """
    return askOf(request)._replace(path=path)


#: The parameters of a query, as every resource reads them (L{parseQuery}).
queryArgs = parseQuery


def applyReply(request: IRequest, reply: Reply) -> bytes | int:
    """
    Set C{reply}'s status and fields on C{request}'s response, as every
    resource's answer is set (L{applyAnswer}: none of the body to a
    C{HEAD}, with its length).

    @return: the body, for C{render} to return.
    """
    return applyAnswer(
        request, Answer(reply.status, reply.fields, reply.body, reason=reply.reason)
    )


def clockStatusOf(health: ClockHealth | None) -> bytes:
    """
    @return: the C{Clock-Status} field for the server clock's state, as the
        time resources give it: unknown without a L{ClockHealth}.
    """
    return UNKNOWN.structuredField() if health is None else health.field()


def timeFields(clockStatus: bytes | None, contentType: bytes = JSON_TYPE) -> Fields:
    """
    @param clockStatus: the C{Clock-Status} field, if the answer has one.
    @return: the fields of a time answer (L{TIME_FIELDS}, then
        C{Clock-Status}), then its C{Content-Type}, as the API's resources
        set them.
    """
    status = () if clockStatus is None else ((b"Clock-Status", clockStatus),)
    return (*TIME_FIELDS, *status, (b"Content-Type", contentType))


def jsonBody(value: object) -> bytes:
    """
    @return: C{value} as compact JSON, as the API writes it.
    """
    return json.dumps(value, separators=(",", ":")).encode()
