"""
Tests for L{clocksvc._ntp._packet}: the NTP packet, as an SNTP server reads
requests and writes replies.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._ntp import (
    HEADER_LENGTH,
    LEAP_INSERT,
    LEAP_UNSYNCHRONIZED,
    LOCAL_REFERENCE_ID,
    Header,
    Policy,
    Request,
    fromShort,
    fromTimestamp,
    precisionOf,
    readRequest,
    toShort,
    toTimestamp,
)

from ._helpers import BILLENNIUM
from ._ntp import fields, request


class TimestampTests(SynchronousTestCase):
    """
    NTP's timestamps and short format.
    """

    def test_billennium(self) -> None:
        """
        Unix time 1e9 is 3,208,988,800 s after 1900 (the 2,208,988,800 s from
        1900 to 1970, plus 1e9), with no fraction.
        """
        self.assertEqual(toTimestamp(BILLENNIUM), 3_208_988_800 << 32)
        self.assertEqual(fromTimestamp(3_208_988_800 << 32), BILLENNIUM)

    def test_fraction(self) -> None:
        """
        Half a second is 2**31 in the low 32 bits.
        """
        self.assertEqual(toTimestamp(BILLENNIUM + 0.5) & 0xFFFF_FFFF, 1 << 31)

    def test_eraRollover(self) -> None:
        """
        After 2036-02-07T06:28:16Z (2**32 s after 1900), timestamps start
        again from 0, in NTP era 1, as RFC 5905 section 6 has them.
        """
        rollover = 2**32 - 2_208_988_800
        self.assertEqual(toTimestamp(rollover + 1), 1 << 32)
        self.assertEqual(fromTimestamp(toTimestamp(rollover + 1), era=1), rollover + 1)

    def test_short(self) -> None:
        """
        The short format has 16 bits of fraction, rounded up so that a
        bound stays one, and saturates at its largest value.
        """
        self.assertEqual(toShort(1.0), 1 << 16)
        self.assertEqual(toShort(0.0000001), 1)
        self.assertEqual(toShort(-1.0), 0)
        self.assertEqual(toShort(1e9), 0xFFFF_FFFF)
        self.assertEqual(fromShort(1 << 15), 0.5)

    def test_precision(self) -> None:
        """
        The precision is log2 of the resolution, rounded up: 1 ns is
        -29.9, so -29; but a float of today's time resolves only 2**-22 s
        (its last bit), which then wins.
        """
        self.assertEqual(precisionOf(1e-9, 0.0), -29)
        self.assertEqual(precisionOf(1e-9, 1.8e9), -22)
        self.assertEqual(precisionOf(1.0, 0.0), 0)
        self.assertEqual(precisionOf(10.0, 0.0), 0)
        self.assertEqual(precisionOf(0.0, 0.0), -32)


class ReadRequestTests(SynchronousTestCase):
    """
    L{readRequest} reads a client's request, or says why it is dropped.
    """

    def test_client(self) -> None:
        """
        A client's request gives its version, poll and transmit timestamp.
        """
        self.assertEqual(
            readRequest(request(version=3, poll=-2, transmit=7)),
            Request(3, -2, (7).to_bytes(8, "big")),
        )

    def test_versions(self) -> None:
        """
        Versions 1 to 4 are answered; 0 and 5 to 7 are not.
        """
        for version in range(1, 5):
            self.assertIsInstance(readRequest(request(version=version)), Request)
        for version in (0, 5, 6, 7):
            self.assertEqual(readRequest(request(version=version)), "version")

    def test_short(self) -> None:
        """
        Anything under 48 bytes is short.
        """
        self.assertEqual(readRequest(request()[:47]), "short")
        self.assertEqual(readRequest(b""), "short")

    def test_control(self) -> None:
        """
        Modes 6 (control) and 7 (private: ntpdc's monlist) are never
        answered: they are the modes of amplification attacks.
        """
        self.assertEqual(readRequest(request(mode=6)), "control")
        self.assertEqual(readRequest(request(mode=7)), "control")

    def test_otherModes(self) -> None:
        """
        Every mode but a client's (3) is dropped: symmetric, server and
        broadcast packets are not requests.
        """
        for mode in (0, 1, 2, 4, 5):
            self.assertEqual(readRequest(request(mode=mode)), "mode")

    def test_malformed(self) -> None:
        """
        A length that is not a whole number of 32-bit words, or a transmit
        timestamp of 0, is malformed.
        """
        self.assertEqual(readRequest(request(extra=b"x")), "malformed")
        self.assertEqual(readRequest(request(transmit=0)), "malformed")

    def test_extensions(self) -> None:
        """
        A request with extension fields or a MAC (a longer one, in whole
        words) is answered.
        """
        self.assertIsInstance(readRequest(request(extra=bytes(20))), Request)

    @given(
        st.one_of(
            st.binary(max_size=200),
            # Most datagrams of 48 bytes or more, and a third of those with
            # a client's mode and version, so that replies are made.
            st.binary(min_size=48, max_size=120),
            st.tuples(
                st.sampled_from([0x0B, 0x13, 0x1B, 0x23, 0xE3]),
                st.binary(min_size=47, max_size=99),
            ).map(lambda parts: bytes([parts[0]]) + parts[1]),
        )
    )
    def test_anyDatagram(self, datagram: bytes) -> None:
        """
        Any datagram is read without an exception, and its reply, if it has
        one, is never larger than it.
        """
        read = readRequest(datagram)
        if isinstance(read, str):
            return
        header = Policy().header(True, 0.001, BILLENNIUM, 0)
        self.assertLessEqual(
            len(header.reply(read, BILLENNIUM, BILLENNIUM)), len(datagram)
        )
        self.assertLessEqual(len(header.kiss(read)), len(datagram))


class ReplyTests(SynchronousTestCase):
    """
    L{Header.reply} and L{Header.kiss} write RFC 5905's server packets.
    """

    def test_reply(self) -> None:
        """
        A reply echoes the client's version and poll, carries its transmit
        timestamp as the origin, and the receive and transmit times given.
        """
        header = Header(0, 2, -22, 0.0, 0.5, LOCAL_REFERENCE_ID, BILLENNIUM)
        read = readRequest(request(version=3, poll=10, transmit=99))
        assert isinstance(read, Request)
        reply = header.reply(read, BILLENNIUM + 1, BILLENNIUM + 1.5)
        self.assertEqual(len(reply), HEADER_LENGTH)
        self.assertEqual(
            fields(reply),
            (
                0,
                3,
                4,
                2,
                10,
                -22,
                0,
                # Half a second, in 16.16.
                1 << 15,
                LOCAL_REFERENCE_ID,
                toTimestamp(BILLENNIUM),
                99,
                toTimestamp(BILLENNIUM + 1),
                toTimestamp(BILLENNIUM + 1.5),
            ),
        )

    def test_kiss(self) -> None:
        """
        A kiss-o'-death has stratum 0, the leap indicator 3 and the kiss
        code as reference ID; its timestamps are all the client's own, so
        that no time can be taken from it.
        """
        header = Header(0, 2, -22, 0.0, 0.5, LOCAL_REFERENCE_ID, BILLENNIUM)
        read = readRequest(request(version=4, poll=6, transmit=99))
        assert isinstance(read, Request)
        self.assertEqual(
            fields(header.kiss(read)),
            (3, 4, 4, 0, 6, -22, 0, 0, b"RATE", 0, 99, 99, 99),
        )


class PolicyTests(SynchronousTestCase):
    """
    L{Policy.header} says what the clock's state makes of a reply.
    """

    def test_synchronized(self) -> None:
        """
        Synchronized: the leap indicator given, the stratum, and a root
        dispersion of the kernel's maximum error.
        """
        header = Policy(stratum=3, precision=-22).header(
            True, 0.0125, BILLENNIUM, LEAP_INSERT
        )
        self.assertEqual(
            header,
            Header(LEAP_INSERT, 3, -22, 0.0, 0.0125, LOCAL_REFERENCE_ID, BILLENNIUM),
        )

    def test_unsynchronized(self) -> None:
        """
        Unsynchronized, or unknown: leap indicator 3 and stratum 0, as
        chrony answers, whatever leap second is pending.
        """
        for state in (False, None):
            header = Policy().header(state, 16.0, None, LEAP_INSERT)
            self.assertEqual((header.leap, header.stratum), (LEAP_UNSYNCHRONIZED, 0))

    def test_localStratum(self) -> None:
        """
        With a local stratum, an unsynchronized clock is served anyway, at
        that stratum; the kernel's ceiling of 16 s is no error bound, and
        is not passed on.
        """
        header = Policy(localStratum=8).header(False, 16.0, None, 0)
        self.assertEqual((header.leap, header.stratum), (0, 8))
        self.assertEqual(header.rootDispersion, 0.0)
        header = Policy(localStratum=8).header(False, 0.25, None, 0)
        self.assertEqual(header.rootDispersion, 0.25)

    def test_strata(self) -> None:
        """
        A stratum is from 1 to 15.
        """
        for bad in (0, 16):
            self.assertRaises(ValueError, Policy, bad)
            self.assertRaises(ValueError, Policy, 2, bad)
