# -*- test-case-name: tests.test_negotiation -*-
"""
Content negotiation: which of the types a resource offers does the client's
C{Accept} header prefer?
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_MEDIA_RANGES", "Negotiation", "preferredType"]

#: The most media ranges of an C{Accept} field that are read: browsers send
#: under ten, and a field of thousands would otherwise cost milliseconds.
MAX_MEDIA_RANGES = 32
# Likewise the parameters of each (q among them, which comes after the
# media type's own).
_MAX_PARAMETERS = 8


def _parseAccept(header: str) -> list[tuple[str, str, float]]:
    """
    @return: each of the first L{MAX_MEDIA_RANGES} media ranges of an
        C{Accept} header as (type, subtype, quality), skipping ranges that
        cannot be parsed.
    """
    ranges = []
    # Those past the limit are left in one piece, unread.
    for item in header.split(",", MAX_MEDIA_RANGES)[:MAX_MEDIA_RANGES]:
        mediaRange, *parameters = item.split(";", _MAX_PARAMETERS)[:_MAX_PARAMETERS]
        kind, slash, subtype = mediaRange.strip().lower().partition("/")
        if not slash or not kind or not subtype:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0.0 <= quality <= 1.0:
            ranges.append((kind, subtype, quality))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, str, float]]) -> float:
    """
    @return: the quality the client gives C{offer}: that of the most specific
        range that matches it (C{text/plain} before C{text/*} before C{*/*}),
        or 0 if none does.
    """
    kind, _, subtype = offer.partition("/")
    best = (-1, 0.0)
    for rangeKind, rangeSubtype, quality in ranges:
        if (rangeKind, rangeSubtype) == (kind, subtype):
            specificity = 2
        elif (rangeKind, rangeSubtype) == (kind, "*"):
            specificity = 1
        elif (rangeKind, rangeSubtype) == ("*", "*"):
            specificity = 0
        else:
            continue
        best = max(best, (specificity, quality), key=lambda pair: pair[0])
    return best[1]


def preferredType(accept: str | None, offers: Sequence[str]) -> str:
    """
    Choose the representation to send.

    @param accept: the request's C{Accept} header, or L{None} without one.
    @param offers: the media types the resource can send, the server's
        favourite first; it wins ties.
    @return: the offer the client rates highest. A client that accepts none
        of them still gets the first: an answer it may be able to use beats
        a 406 it surely cannot.
    """
    if not accept:
        return offers[0]
    ranges = _parseAccept(accept)
    best, bestQuality = offers[0], 0.0
    for offer in offers:
        quality = _quality(offer, ranges)
        if quality > bestQuality:
            best, bestQuality = offer, quality
    return best


class Negotiation:
    """
    L{preferredType} among one resource's offers, with its choices kept:
    there are a handful of distinct C{Accept} fields in real traffic.
    """

    #: How many distinct C{Accept} fields it keeps choices for: a client
    #: cannot grow it past this.
    _SIZE = 64

    def __init__(self, offers: Sequence[str]) -> None:
        """
        @param offers: the media types offered, the server's favourite
            first.
        """
        self.offers = tuple(offers)
        self._chosen: dict[bytes, str] = {}

    def choose(self, accept: bytes | None) -> str:
        """
        @param accept: the request's C{Accept} field, or L{None} without
            one.
        @return: the offer that C{accept} prefers (L{preferredType}).
        """
        if accept is None:
            return self.offers[0]
        chosen = self._chosen.get(accept)
        if chosen is None:
            if len(self._chosen) >= self._SIZE:
                self._chosen.clear()
            # Field values are bytes; latin-1 decodes any of them, and
            # media types are ASCII.
            chosen = preferredType(accept.decode("latin-1"), self.offers)
            self._chosen[accept] = chosen
        return chosen
