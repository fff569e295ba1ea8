"""
Tests for L{clocksvc._web._negotiation}: choosing a representation from the
C{Accept} header.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._web._negotiation import MAX_MEDIA_RANGES, Negotiation, preferredType

JSON = "application/json"
TEXT = "text/plain"
HTML = "text/html"

#: What the time resources offer, JSON first.
OFFERS = (JSON, TEXT)


class PreferredTypeTests(SynchronousTestCase):
    """
    L{preferredType} picks the offer the client rates highest, and the
    server's favourite when that is no help.
    """

    def test_noHeader(self) -> None:
        """
        Without an C{Accept} header, or with an empty one, the first offer
        wins.
        """
        self.assertEqual(preferredType(None, OFFERS), JSON)
        self.assertEqual(preferredType(None, (TEXT, JSON)), TEXT)
        self.assertEqual(preferredType("", (TEXT, JSON)), TEXT)

    def test_anything(self) -> None:
        """
        C{*/*} rates every offer alike, so the first wins.
        """
        self.assertEqual(preferredType("*/*", OFFERS), JSON)
        self.assertEqual(preferredType("*/*", (TEXT, JSON)), TEXT)

    def test_browser(self) -> None:
        """
        A browser's header gets HTML, which it rates above the C{*/*} that
        covers the others.
        """
        accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        self.assertEqual(preferredType(accept, (HTML, JSON, TEXT)), HTML)
        # Even when HTML is not the server's favourite.
        self.assertEqual(preferredType(accept, (JSON, TEXT, HTML)), HTML)

    def test_exact(self) -> None:
        """
        A client that names one offer gets it.
        """
        self.assertEqual(preferredType(JSON, OFFERS), JSON)
        self.assertEqual(preferredType(TEXT, OFFERS), TEXT)

    def test_subtypeWildcard(self) -> None:
        """
        C{text/*} matches text offers only.
        """
        self.assertEqual(preferredType("text/*", OFFERS), TEXT)

    def test_quality(self) -> None:
        """
        The offer with the higher quality wins, whatever the order of the
        header or of the offers.
        """
        self.assertEqual(
            preferredType("application/json;q=0.5, text/plain", OFFERS), TEXT
        )
        self.assertEqual(
            preferredType("text/plain;q=0.4 , application/json;q=0.6", (TEXT, JSON)),
            JSON,
        )

    def test_qualityTie(self) -> None:
        """
        Offers the client rates equally go by the server's order.
        """
        self.assertEqual(
            preferredType("text/plain;q=0.5, application/json;q=0.5", OFFERS), JSON
        )

    def test_qualityZeroExcludes(self) -> None:
        """
        Quality 0 refuses an offer, even one a wider range would accept.
        """
        # text/plain is refused; */* accepts JSON at quality 1.
        self.assertEqual(preferredType("text/plain;q=0, */*", (TEXT, JSON)), JSON)
        self.assertEqual(preferredType("text/*;q=0, */*;q=0.1", (TEXT, JSON)), JSON)

    def test_mostSpecificWins(self) -> None:
        """
        An offer's quality is that of the most specific range that matches
        it, not the highest.
        """
        # text/plain is rated 0.9 by its own range, not 0.1 by text/*; JSON
        # is not acceptable at all.
        self.assertEqual(preferredType("text/*;q=0.1, text/plain;q=0.9", OFFERS), TEXT)
        # The exact range's low rating beats the wildcard's high one.
        self.assertEqual(
            preferredType("*/*;q=1, application/json;q=0.2, text/*;q=0.3", OFFERS), TEXT
        )

    def test_malformedIgnored(self) -> None:
        """
        Ranges that cannot be parsed, or whose quality is not a number from
        0 to 1, are skipped, and the rest of the header still counts.
        """
        for accept in [
            "garbage, text/plain",
            "application/json;q=abc, text/plain",
            "application/json;q=2, text/plain",
            "application/json;q=-1, text/plain",
            "q=2, text/plain",
            "/json, application/, text/plain",
        ]:
            self.assertEqual(preferredType(accept, OFFERS), TEXT, accept)

    def test_nothingAcceptable(self) -> None:
        """
        A client that accepts none of the offers still gets the first.
        """
        for accept in ["image/png", "garbage", "text/plain;q=0", "*/*;q=0", ","]:
            self.assertEqual(preferredType(accept, (TEXT, JSON)), TEXT, accept)

    def test_caseInsensitive(self) -> None:
        """
        Media types and the C{q} parameter are matched in any letter case.
        """
        self.assertEqual(preferredType("TEXT/PLAIN", OFFERS), TEXT)
        self.assertEqual(preferredType("Text/*", OFFERS), TEXT)
        self.assertEqual(
            preferredType("application/JSON;Q=0.1, text/plain;q=0.2", OFFERS), TEXT
        )

    def test_whitespace(self) -> None:
        """
        Spaces around ranges, parameters and values are allowed.
        """
        self.assertEqual(
            preferredType(
                " application/json ; q = 0.1 ,  text/plain ; q = 0.2 ", OFFERS
            ),
            TEXT,
        )

    def test_otherParameters(self) -> None:
        """
        Parameters other than C{q} do not change the quality.
        """
        self.assertEqual(
            preferredType("application/json;q=0.5, text/plain;charset=utf-8", OFFERS),
            TEXT,
        )

    @given(accept=st.text())
    def test_anyHeader(self, accept: str) -> None:
        """
        Any header at all gets one of the offers, without an error.
        """
        self.assertIn(preferredType(accept, (HTML, JSON, TEXT)), (HTML, JSON, TEXT))

    def test_boundedRanges(self) -> None:
        """
        Only the first L{MAX_MEDIA_RANGES} media ranges are read, and the
        first few parameters of each: a field of thousands costs no more
        than one of a few dozen. A preference stated past them is not heard.
        """
        filler = "x/y;q=0.1, " * (MAX_MEDIA_RANGES - 1)
        self.assertEqual(preferredType(filler + JSON, (TEXT, JSON)), JSON)
        self.assertEqual(preferredType(filler + "x/y, " + JSON, (TEXT, JSON)), TEXT)
        many = JSON + ";a=b" * 2000 + ";q=0"
        self.assertEqual(preferredType(many, (TEXT, JSON)), JSON)
        self.assertEqual(preferredType(JSON + ";a=b;q=0", (TEXT, JSON)), TEXT)


class NegotiationTests(SynchronousTestCase):
    """
    L{Negotiation} chooses as L{preferredType} does, its choices kept within
    bounds.
    """

    @given(accept=st.one_of(st.none(), st.binary(max_size=60)))
    def test_same(self, accept: bytes | None) -> None:
        """
        Any field, or none, gets the offer L{preferredType} chooses, once
        read and again from what is kept.
        """
        negotiation = Negotiation((HTML, JSON, TEXT))
        expected = preferredType(
            None if accept is None else accept.decode("latin-1"), (HTML, JSON, TEXT)
        )
        self.assertEqual(negotiation.choose(accept), expected)
        self.assertEqual(negotiation.choose(accept), expected)

    def test_bounded(self) -> None:
        """
        However many distinct fields, each is chosen for, and the choices
        kept stay within their bound.
        """
        negotiation = Negotiation((TEXT, JSON))
        for n in range(1000):
            # Text from q=0.5 on: the first offer wins a tie.
            accept = b"text/plain;q=0.%03d, application/json;q=0.5" % n
            self.assertEqual(negotiation.choose(accept), TEXT if n >= 500 else JSON)
        self.assertLessEqual(len(negotiation._chosen), Negotiation._SIZE)
