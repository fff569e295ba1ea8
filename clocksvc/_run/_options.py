# -*- test-case-name: tests.test_cli,tests.test_workers -*-
"""
The options of C{python -m clocksvc} and C{twist clocksvc}, parsed and
checked, with C{usage.Options} as Twisted's own commands do.
"""

from __future__ import annotations

import os
from typing import ClassVar

from twisted.python import usage

from .._http import X_FORWARDED_FOR, Limits, TrustedProxies
from .._time import chooseZoneDatabase
from .._version import __version__
from .._web import GeoIP, GeoIPError, Readiness, resolveZone
from ._endpoints import Problem, withCertificate
from ._ntpoptions import parseNTPAddress, parseRateLimit, parseStratum
from ._roughtime import KeyProblem, loadKey, parseAddress
from ._tls import TLSError, loadCertificate

__all__ = [
    "DEFAULT_ENDPOINT",
    "LOG_FORMATS",
    "MAX_WORKERS_PER_CPU",
    "Options",
    "availableCPUs",
]

DEFAULT_ENDPOINT = "tcp:8880"
#: The same, with C{--tls-cert}: HTTPS on the same port, as uvicorn's
#: C{--ssl-certfile} makes it.
DEFAULT_TLS_ENDPOINT = "ssl:8880"

#: The formats of C{--log-format}.
LOG_FORMATS = ("json", "text")

#: The most C{--workers} for each CPU, without C{--allow-many-workers}: a
#: worker keeps one CPU busy at most, and takes about 55 MB, so that more
#: only take turns, and a slip of the keyboard (C{--workers 1000}) would
#: fill the memory before it served a request.
MAX_WORKERS_PER_CPU = 4


def availableCPUs() -> int:
    """
    @return: how many CPUs this process may run on (C{--workers auto}): fewer
        than the machine has when C{taskset} or a cgroup's cpuset limits it.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Options(usage.Options):
    """
    The options of C{python -m clocksvc}.
    """

    synopsis = "Usage: python -m clocksvc [options]"
    longdesc = (
        "Serve the current time over HTTP: the Twisted Web lesson's clock page "
        "at /. Without --listen or --port, it listens on "
        + DEFAULT_ENDPOINT
        + " ("
        + DEFAULT_TLS_ENDPOINT
        + " with --tls-cert)."
    )

    optParameters: ClassVar[list[list[str | None]]] = [
        [
            "timezone",
            None,
            None,
            "The server's IANA time zone (any letter case): that of the page "
            "at /, and of /now, /stream and the time document at / for "
            "clients that name none. By default the process's local zone "
            "(TZ, or /etc/localtime), whose time the page shows as "
            "time.ctime() does; UTC if it has no name.",
        ],
        [
            "tzdata",
            None,
            "newest",
            "The zone database to answer from: newest, whichever of the "
            "system's zone files and the tzdata package is the later tz "
            "release; or system or package, to pin one.",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        # usage.Options keeps the docstrings' line breaks and indentation,
        # which --help's re-wrapping would show as runs of spaces.
        self.docs = {
            name: " ".join(doc.split()) for name, doc in self.docs.items() if doc
        }
        self["listen"] = []
        self["admin-listen"] = []
        self["access-log"] = "-"
        self["shutdown-timeout"] = 10.0
        self["workers"] = 1
        self["trusted-proxy"] = []
        self["geoip-db"] = None
        self["log-format"] = "json"
        self["roughtime-listen"] = []
        self["roughtime-key"] = None
        self["ntp-listen"] = []
        self["ntp-stratum"] = 2
        self["ntp-local-stratum"] = None
        self["ntp-rate-limit"] = None

    def opt_listen(self, description: str) -> None:
        """
        Listen on a Twisted server endpoint description, such as
        tcp:8080:interface=127.0.0.1 or unix:/run/clocksvc.sock (repeatable).
        """
        self["listen"].append(description)

    #: Which of C{listen} came from C{--port}: with C{--tls-cert}, HTTPS.
    _fromPort: tuple[int, ...] = ()

    def opt_port(self, port: str) -> None:
        """
        Listen on this TCP port on all interfaces (short for --listen tcp:PORT,
        or ssl:PORT with --tls-cert).
        """
        if not port.isdigit() or int(port) > 65535:
            raise usage.UsageError(
                f"--port needs a number from 0 to 65535, not {port!r}"
            )
        self._fromPort += (len(self["listen"]),)
        self["listen"].append(f"tcp:{int(port)}")

    def opt_header_timeout(self, value: str) -> None:
        """
        Seconds a client has to send a whole request, from its first byte or
        from connecting (default 10); then 408 and close.
        """
        self["header-timeout"] = _positive("--header-timeout", value)

    def opt_idle_timeout(self, value: str) -> None:
        """
        Seconds a kept-alive connection may sit idle (default 15).
        """
        self["idle-timeout"] = _positive("--idle-timeout", value)

    def opt_max_connections(self, value: str) -> None:
        """
        Connections served at once (default: the file-descriptor limit less
        64); beyond it, new connections get 503 and are closed.
        """
        if not value.isdigit() or int(value) < 1:
            raise usage.UsageError(
                f"--max-connections needs a whole number above 0, not {value!r}"
            )
        self["max-connections"] = int(value)

    def opt_shutdown_timeout(self, value: str) -> None:
        """
        Seconds that SIGTERM lets requests in flight finish before they are
        dropped (default 10).
        """
        self["shutdown-timeout"] = _positive("--shutdown-timeout", value)

    def limits(self) -> Limits:
        """
        @return: the limits the options ask for.
        """
        chosen = {
            "headerTimeout": self.get("header-timeout"),
            "idleTimeout": self.get("idle-timeout"),
            "maxConnections": self.get("max-connections"),
        }
        return Limits(**{k: v for k, v in chosen.items() if v is not None})

    def opt_admin_listen(self, description: str) -> None:
        """
        Serve /healthz, /readyz and /metrics on this endpoint (repeatable)
        instead of on the public ones.
        """
        self["admin-listen"].append(description)

    def opt_access_log(self, value: str) -> None:
        """
        Where the log goes, one JSON object a line: a file's path, - for
        standard output (the default), or off for no access log (service
        events and errors then go to standard error).
        """
        self["access-log"] = value

    def opt_log_format(self, value: str) -> None:
        """
        The log's format: json, one JSON object a line (the default), or text,
        for people reading a terminal.
        """
        if value not in LOG_FORMATS:
            raise usage.UsageError(f"--log-format needs json or text, not {value!r}")
        self["log-format"] = value

    def opt_tls_cert(self, path: str) -> None:
        """
        Serve HTTPS with this certificate (PEM; the intermediate certificates
        may follow it, as in certbot's fullchain.pem) and --tls-key's key:
        --port and the default listener are then HTTPS, as is each ssl:
        endpoint that names no key of its own. SIGHUP reads both files again.
        """
        self["tls-cert"] = path

    def opt_tls_key(self, path: str) -> None:
        """
        The private key of --tls-cert (PEM, without a passphrase).
        """
        self["tls-key"] = path

    def _serveTLS(self) -> None:
        """
        With C{--tls-cert} and C{--tls-key}: check that they can serve, and
        make C{--port}, the default listener and each C{ssl:} endpoint that
        names no key of its own serve them.

        @raise Problem: if they cannot serve.
        """
        cert, key = self.get("tls-cert"), self.get("tls-key")
        if cert is None and key is None:
            return
        if cert is None or key is None:
            raise usage.UsageError("--tls-cert and --tls-key go together")
        try:
            loadCertificate(cert, key)
        except TLSError as e:
            # Not a usage error: the option is right, the file is not.
            raise Problem(str(e)) from None
        listen = self["listen"]
        for index in self._fromPort:
            listen[index] = "ssl:" + listen[index].removeprefix("tcp:")
        self["listen"] = [
            withCertificate(d, cert, key) for d in listen or [DEFAULT_TLS_ENDPOINT]
        ]
        self["admin-listen"] = [
            withCertificate(d, cert, key) for d in self["admin-listen"]
        ]

    def opt_workers(self, value: str) -> None:
        """
        Serve with this many processes, sharing the listening sockets
        (default 1), or auto for one per CPU; with more than one, this
        process starts and supervises them.
        """
        if value == "auto":
            self["workers"] = availableCPUs()
            return
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise usage.UsageError(
                f"--workers needs a whole number above 0, or auto, not {value!r}"
            )
        self["workers"] = int(value)

    def opt_allow_many_workers(self) -> None:
        """
        Start the --workers asked for even when they are more than 4 per
        CPU, which is refused otherwise.
        """
        self["allow-many-workers"] = True

    def opt_trusted_proxy(self, value: str) -> None:
        """
        Believe the field --forwarded-header names in requests from this
        proxy: an IP address, a network such as 10.0.0.0/8, or unix for any
        peer on a UNIX socket (repeatable, or a comma-separated list).
        """
        try:
            TrustedProxies.parse([value])
        except ValueError as e:
            raise usage.UsageError(str(e)) from None
        self["trusted-proxy"].append(value)

    def trustedProxies(self) -> TrustedProxies:
        """
        @return: the proxies that C{--trusted-proxy} names, none by default;
            and the field they write, as C{--forwarded-header} says.
        """
        return TrustedProxies.parse(
            self["trusted-proxy"], self.get("forwarded-header", X_FORWARDED_FOR)
        )

    def opt_forwarded_header(self, value: str) -> None:
        """
        The field the trusted proxies write, the only one believed:
        x-forwarded-for (with X-Forwarded-Proto; the default) or forwarded
        (RFC 7239). A proxy passes the other on as its client wrote it.
        """
        try:
            TrustedProxies.parse([], value)
        except ValueError as e:
            raise usage.UsageError(str(e)) from None
        self["forwarded-header"] = value

    def opt_geoip_db(self, path: str) -> None:
        """
        Answer /api/ip with the zone this IP geolocation database gives for
        the client's address: a MaxMind DB file with location.time_zone,
        such as GeoLite2-City.mmdb or DB-IP's City Lite; SIGHUP reads it
        again.
        """
        try:
            self["geoip-db"] = GeoIP(path)
        except GeoIPError as e:
            raise usage.UsageError(f"--geoip-db: {e}") from None

    def opt_require_synchronized_clock(self) -> None:
        """
        Say not ready at /readyz (503) while the kernel says the clock is
        not synchronized, or cannot say; clocksvc serves all the same.
        """
        self["require-synchronized-clock"] = True

    def opt_max_clock_error(self, value: str) -> None:
        """
        With --require-synchronized-clock: also say not ready while the
        kernel's maximum error of the clock is above this many milliseconds.
        """
        try:
            bound = float(value)
        except ValueError:
            bound = -1.0
        if not 0 < bound < 86400e3:
            raise usage.UsageError(
                f"--max-clock-error needs a number of milliseconds above 0, "
                f"not {value!r}"
            )
        self["max-clock-error"] = bound

    def readiness(self) -> Readiness:
        """
        @return: what C{/readyz} asks of the clock.
        """
        return Readiness(
            self.get("require-synchronized-clock", False),
            self.get("max-clock-error"),
        )

    def opt_roughtime_listen(self, value: str) -> None:
        """
        Serve signed time by Roughtime (RFC 10049) over UDP on [HOST:]PORT,
        such as 2002 or 127.0.0.1:2002 (repeatable; off by default; needs
        --roughtime-key).
        """
        try:
            self["roughtime-listen"].append(parseAddress(value))
        except ValueError as e:
            raise usage.UsageError(str(e)) from None

    def opt_roughtime_key(self, path: str) -> None:
        """
        The Roughtime server's long-term Ed25519 key: a PEM file only its
        owner may read, as python -m clocksvc roughtime-keygen FILE makes.
        """
        self["roughtime-key"] = path

    def opt_roughtime_tcp(self) -> None:
        """
        Serve Roughtime over TCP too, on the same addresses.
        """
        self["roughtime-tcp"] = True

    def opt_roughtime_require_synchronized(self) -> None:
        """
        Answer no Roughtime request while the kernel says the clock is not
        synchronized, or cannot say (by default such answers carry a radius
        of a day).
        """
        self["roughtime-require-synchronized"] = True

    def _checkRoughtime(self) -> None:
        """
        Check the Roughtime options together, and read the key.
        """
        listen, path = self["roughtime-listen"], self["roughtime-key"]
        if not listen:
            for needs in ("roughtime-key", "roughtime-tcp"):
                if self.get(needs):
                    raise usage.UsageError(f"--{needs} needs --roughtime-listen")
            if self.get("roughtime-require-synchronized"):
                raise usage.UsageError(
                    "--roughtime-require-synchronized needs --roughtime-listen"
                )
            return
        if path is None:
            raise usage.UsageError("--roughtime-listen needs --roughtime-key FILE")
        if self["workers"] > 1:
            raise usage.UsageError(
                "--roughtime-listen serves from one process: not with --workers"
            )
        try:
            self["roughtime-key"] = loadKey(path)
        except KeyProblem as e:
            raise usage.UsageError(f"--roughtime-key: {e}") from None

    def opt_ntp_listen(self, value: str) -> None:
        """
        Serve SNTP (NTP's server mode) on this UDP [HOST:]PORT: 123,
        127.0.0.1:123, [::]:123 (repeatable; off by default). Port 123
        needs CAP_NET_BIND_SERVICE.
        """
        self["ntp-listen"].append(parseNTPAddress(value))

    def opt_ntp_stratum(self, value: str) -> None:
        """
        The stratum SNTP replies carry while the kernel says the clock is
        synchronized (default 2: one below a host that follows stratum-1
        servers; set your time daemon's stratum plus one).
        """
        self["ntp-stratum"] = parseStratum("--ntp-stratum", value)

    def opt_ntp_local_stratum(self, value: str) -> None:
        """
        Serve SNTP with this stratum even while the kernel says the clock is
        not synchronized, instead of leap indicator 3 and stratum 0: for labs
        and hosts whose clock is kept some other way. Clients then trust an
        unchecked clock.
        """
        self["ntp-local-stratum"] = parseStratum("--ntp-local-stratum", value)

    def opt_ntp_rate_limit(self, value: str) -> None:
        """
        How fast one address may ask for the time over SNTP, as RATE/BURST:
        requests a second on average, and at once (default 1/16); the first
        request over it gets a RATE kiss-o'-death, the next are dropped.
        """
        self["ntp-rate-limit"] = parseRateLimit(value)

    def opt_version(self) -> None:
        """
        Print the version and exit.
        """
        print(f"clocksvc {__version__}")
        raise SystemExit(0)

    def postOptions(self) -> None:
        """
        Listen on the default endpoint when none was given, and check the
        number of workers and the time zone.
        """
        self._serveTLS()
        if not self["listen"]:
            self["listen"] = [DEFAULT_ENDPOINT]
        most = MAX_WORKERS_PER_CPU * availableCPUs()
        if self["workers"] > most and not self.get("allow-many-workers"):
            raise usage.UsageError(
                f"--workers {self['workers']} is more than {MAX_WORKERS_PER_CPU} "
                f"per CPU ({most} here); add --allow-many-workers to start them"
            )
        self._checkRoughtime()
        if self["ntp-listen"] and self["workers"] > 1:
            raise usage.UsageError(
                "--ntp-listen serves from one process: not with --workers"
            )
        if "max-clock-error" in self and not self.get("require-synchronized-clock"):
            raise usage.UsageError(
                "--max-clock-error needs --require-synchronized-clock"
            )
        try:
            if self["timezone"] is not None:
                self["timezone"] = resolveZone(self["timezone"]).key
            self["tzdata"] = chooseZoneDatabase(self["tzdata"])
        except ValueError as e:
            raise usage.UsageError(str(e)) from None


def _positive(option: str, value: str) -> float:
    """
    @return: C{value} as a number of seconds above 0.
    @raise usage.UsageError: if it is not one.
    """
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 86400 * 365:
        raise usage.UsageError(
            f"{option} needs a number of seconds above 0, not {value!r}"
        )
    return seconds
