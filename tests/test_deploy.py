"""
Tests for the deployment files under C{deploy/}: that they parse, and that
the values in them which must agree with the code, and with each other, do:
the port, the health check's path, the user, and the shutdown timings.

Nothing here runs a container, a cluster or systemd; the files are read as
their tools would read them, closely enough to find the values.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

import yaml
from twisted.internet.endpoints import (
    AdoptedStreamServerEndpoint,
    _SystemdParser,
    serverFromString,
)
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactor
from twisted.python.systemd import ListenFDs
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._run._options import DEFAULT_ENDPOINT, Options

from ._deploy import DEPLOY, only, parseArguments, unitSections, unixSocketPath


def tcpPort(description: str) -> int:
    """
    @return: the port that a C{tcp:} endpoint description listens on, as
        Twisted's own parser reads it.
    """
    reactor = MemoryReactor()
    serverFromString(reactor, description).listen(Factory())
    [(port, _, _, _)] = reactor.tcpServers
    return port


DEFAULT_PORT = tcpPort(DEFAULT_ENDPOINT)


def containerInstructions(text: str) -> list[tuple[str, str]]:
    """
    Split a Containerfile into its instructions, as the builders do: comment
    lines are dropped (inside a continued instruction too), and a line that
    ends with a backslash continues on the next.

    @return: each instruction's keyword, upper case, and its arguments.
    """
    instructions = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    if pending:
        raise ValueError(f"unfinished instruction: {pending!r}")
    return instructions


def listenStreamFamily(listen: str) -> socket.AddressFamily:
    """
    @return: the address family of the socket that systemd makes for a
        C{ListenStream=} value: a bare port number is an IPv6 socket (with
        IPv4 mapped onto it), C{[ADDRESS]:PORT} too, C{ADDRESS:PORT} IPv4.
    """
    if listen.isdigit() or listen.startswith("["):
        return socket.AF_INET6
    return socket.AF_INET


def systemdSeconds(value: str) -> float:
    """
    @return: a systemd time span such as C{15}, C{15s} or C{1min 30s}, in
        seconds.
    """
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


class ContainerfileTests(SynchronousTestCase):
    """
    C{deploy/Containerfile} builds a small image that runs clocksvc as it
    should be run.
    """

    def setUp(self) -> None:
        self.instructions = containerInstructions(
            (DEPLOY / "Containerfile").read_text(encoding="utf-8")
        )

    def arguments(self, keyword: str) -> list[str]:
        """
        @return: the arguments of every instruction with this keyword.
        """
        return [arguments for k, arguments in self.instructions if k == keyword]

    def test_continuations(self) -> None:
        """
        The parser joins continued lines and drops comments, even within an
        instruction.
        """
        self.assertEqual(
            containerInstructions("# c\nrun a \\\n  # c\n  && b\nUSER 1\n"),
            [("RUN", "a  && b"), ("USER", "1")],
        )

    def test_stages(self) -> None:
        """
        A builder stage makes the wheel, and the runtime stage starts again
        from the slim Python 3.12 image.
        """
        defaults = dict(argument.split("=", 1) for argument in self.arguments("ARG"))
        froms = self.arguments("FROM")
        self.assertGreaterEqual(len(froms), 2)
        images = [
            re.sub(r"\$\{(\w+)\}", lambda m: defaults[m[1]], f.split()[0])
            for f in froms
        ]
        self.assertEqual(images, ["docker.io/library/python:3.12-slim"] * len(froms))
        self.assertTrue(froms[0].endswith(" AS builder"), froms[0])
        self.assertNotIn(" AS ", froms[-1])

    def test_wheelOnly(self) -> None:
        """
        The builder builds clocksvc's wheel without its dependencies, and the
        runtime stage installs that wheel with the http2 extra.
        """
        runs = self.arguments("RUN")
        self.assertIn("pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .", runs)
        [install] = [run for run in runs if "pip install" in run]
        self.assertIn("from=builder,source=/wheels", install)
        self.assertIn('"$1[http2]"', install)

    def test_user(self) -> None:
        """
        The image runs as a fixed numeric user and group that are not root.
        """
        [user] = self.arguments("USER")
        self.assertEqual(user, "10001:10001")
        self.assertNotIn("0", user.split(":"))

    def options(self) -> Options:
        """
        @return: the options that the image's default arguments (CMD) give.
        """
        [cmd] = self.arguments("CMD")
        return parseArguments(json.loads(cmd))

    def test_expose(self) -> None:
        """
        The image exposes clocksvc's default port and the admin listener's.
        """
        [admin] = self.options()["admin-listen"]
        self.assertEqual(self.arguments("EXPOSE"), [f"{DEFAULT_PORT} {tcpPort(admin)}"])

    def test_stopSignal(self) -> None:
        """
        Stopping the container sends the signal that starts the drain.
        """
        self.assertEqual(self.arguments("STOPSIGNAL"), ["SIGTERM"])

    def test_healthcheck(self) -> None:
        """
        The health check asks for /healthz on the admin listener's port, with
        Python alone (slim images have no curl), in code that compiles.
        """
        [healthcheck] = self.arguments("HEALTHCHECK")
        _, cmd, command = healthcheck.partition(" CMD ")
        self.assertEqual(cmd, " CMD ")
        python, flag, code = json.loads(command)
        self.assertEqual((python, flag), ("python", "-c"))
        compile(code, "<HEALTHCHECK>", "exec")
        [url] = re.findall(r"http://[^'\"\s]+", code)
        parts = urlsplit(url)
        [admin] = self.options()["admin-listen"]
        self.assertEqual(
            (parts.hostname, parts.port, parts.path),
            ("127.0.0.1", tcpPort(admin), "/healthz"),
        )

    def test_entrypoint(self) -> None:
        """
        The exec-form entry point runs clocksvc as PID 1; the default
        arguments listen on the default endpoint, and serve the operator's
        endpoints on a port of their own.
        """
        [entrypoint] = self.arguments("ENTRYPOINT")
        self.assertEqual(json.loads(entrypoint), ["python", "-m", "clocksvc"])
        options = self.options()
        self.assertEqual(options["listen"], [DEFAULT_ENDPOINT])
        [admin] = options["admin-listen"]
        self.assertNotEqual(tcpPort(admin), DEFAULT_PORT)

    def test_children(self) -> None:
        """
        The file says what clocksvc does as PID 1 with C{--workers}: it has
        children, and reaps them.
        """
        text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
        self.assertNotIn("starts no children", text)
        self.assertIn("reaps them", text)


class KubernetesTests(SynchronousTestCase):
    """
    C{deploy/kubernetes.yaml} runs three replicas behind a Service, probes
    /healthz, and gives a drain time to finish.
    """

    def setUp(self) -> None:
        with (DEPLOY / "kubernetes.yaml").open(encoding="utf-8") as f:
            documents: list[dict[str, Any]] = list(yaml.safe_load_all(f))
        self.documents = {document["kind"]: document for document in documents}
        self.assertEqual(len(self.documents), len(documents))
        self.deployment = self.documents["Deployment"]
        self.pod = self.deployment["spec"]["template"]["spec"]
        [self.container] = self.pod["containers"]
        self.options = parseArguments(self.container["args"])

    def resolvePort(self, port: int | str) -> int:
        """
        @return: a port given by number or by the name of a container port.
        """
        if isinstance(port, int):
            return port
        [number] = [
            p["containerPort"] for p in self.container["ports"] if p["name"] == port
        ]
        return int(number)

    def test_documents(self) -> None:
        """
        The file holds a Deployment, a Service and a PodDisruptionBudget,
        all named clocksvc.
        """
        self.assertEqual(
            sorted(self.documents), ["Deployment", "PodDisruptionBudget", "Service"]
        )
        for document in self.documents.values():
            self.assertEqual(document["metadata"]["name"], "clocksvc")

    def test_image(self) -> None:
        """
        The image is the documented placeholder, run with its own entry
        point.
        """
        self.assertEqual(self.container["image"], "ghcr.io/OWNER/clocksvc:VERSION")
        self.assertNotIn("command", self.container)

    def test_containerPort(self) -> None:
        """
        The container ports are those that the arguments listen on: the
        public one, clocksvc's default, and the admin listener's.
        """
        ports = {
            port["name"]: port["containerPort"] for port in self.container["ports"]
        }
        [admin] = self.options["admin-listen"]
        self.assertEqual(ports, {"http": DEFAULT_PORT, "admin": tcpPort(admin)})
        self.assertEqual(self.options["listen"], [DEFAULT_ENDPOINT])

    def test_probes(self) -> None:
        """
        Readiness asks for /readyz and liveness for /healthz, on the admin
        listener's port (--admin-listen moves them there); neither gives up
        on one slow answer, and liveness only after more than a drain.
        """
        readiness = self.container["readinessProbe"]
        liveness = self.container["livenessProbe"]
        self.assertEqual(readiness["httpGet"]["path"], "/readyz")
        self.assertEqual(liveness["httpGet"]["path"], "/healthz")
        [admin] = self.options["admin-listen"]
        for probe in readiness, liveness:
            self.assertEqual(self.resolvePort(probe["httpGet"]["port"]), tcpPort(admin))
            self.assertGreaterEqual(probe["timeoutSeconds"], 3)
            self.assertGreaterEqual(probe["failureThreshold"], 3)
        self.assertGreater(
            liveness["periodSeconds"] * liveness["failureThreshold"],
            self.options["shutdown-timeout"],
        )

    def test_metricsAnnotations(self) -> None:
        """
        The pods tell a Prometheus that discovers them where /metrics is:
        on the admin listener's port.
        """
        annotations = self.deployment["spec"]["template"]["metadata"]["annotations"]
        [admin] = self.options["admin-listen"]
        self.assertEqual(annotations["prometheus.io/port"], str(tcpPort(admin)))
        self.assertEqual(annotations["prometheus.io/path"], "/metrics")

    def test_service(self) -> None:
        """
        The Service sends port 80 to the container's port, and selects the
        pods that the Deployment makes.
        """
        service = self.documents["Service"]["spec"]
        [port] = service["ports"]
        self.assertEqual(port["port"], 80)
        self.assertEqual(self.resolvePort(port["targetPort"]), DEFAULT_PORT)
        labels = self.deployment["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(service["selector"], labels)
        self.assertEqual(self.deployment["spec"]["selector"]["matchLabels"], labels)

    def test_rollingUpdate(self) -> None:
        """
        Three replicas, replaced one at a time without ever having fewer
        ready.
        """
        spec = self.deployment["spec"]
        self.assertEqual(spec["replicas"], 3)
        self.assertEqual(spec["strategy"]["type"], "RollingUpdate")
        self.assertEqual(spec["strategy"]["rollingUpdate"]["maxUnavailable"], 0)

    def test_gracePeriod(self) -> None:
        """
        The grace period covers the preStop sleep and then a whole drain,
        whose timeout the arguments spell out.
        """
        self.assertIn("--shutdown-timeout", self.container["args"])
        timeout = self.options["shutdown-timeout"]
        self.assertEqual(timeout, 10.0)
        self.assertGreaterEqual(timeout, Options()["shutdown-timeout"])
        sleep = self.container["lifecycle"]["preStop"]["sleep"]["seconds"]
        self.assertEqual(sleep, 5)
        grace = self.pod["terminationGracePeriodSeconds"]
        self.assertEqual(grace, 20)
        self.assertGreater(grace, sleep + timeout)

    def test_securityContext(self) -> None:
        """
        The pod runs as the Containerfile's user, with a read-only root and
        no capabilities but the one to bind port 123, for SNTP.
        """
        [user] = [
            arguments
            for keyword, arguments in containerInstructions(
                (DEPLOY / "Containerfile").read_text(encoding="utf-8")
            )
            if keyword == "USER"
        ]
        uid, gid = (int(n) for n in user.split(":"))
        pod = self.pod["securityContext"]
        self.assertIs(pod["runAsNonRoot"], True)
        self.assertEqual((pod["runAsUser"], pod["runAsGroup"]), (uid, gid))
        container = self.container["securityContext"]
        self.assertIs(container["readOnlyRootFilesystem"], True)
        self.assertIs(container["allowPrivilegeEscalation"], False)
        self.assertEqual(
            container["capabilities"],
            {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
        )


class SystemdTests(SynchronousTestCase):
    """
    C{deploy/systemd/} runs clocksvc on a socket that systemd holds, in a
    sandbox, and stops it with a drain.
    """

    def setUp(self) -> None:
        self.socket = unitSections(
            (DEPLOY / "systemd" / "clocksvc.socket").read_text(encoding="utf-8")
        )
        self.service = unitSections(
            (DEPLOY / "systemd" / "clocksvc.service").read_text(encoding="utf-8")
        )
        self.argv = shlex.split(only(self.service["Service"]["ExecStart"]))
        self.options = parseArguments(self.argv[3:])

    def test_parser(self) -> None:
        """
        The parser keeps repeated keys in order, joins continued lines and
        skips comments.
        """
        self.assertEqual(
            unitSections("; c\n[A]\nK=1\n# c\nK=2 \\\n  3\n[B]\nL = x=y\n"),
            {"A": {"K": ["1", "2  3"]}, "B": {"L": ["x=y"]}},
        )

    def test_listenStream(self) -> None:
        """
        The socket listens on clocksvc's default port, with IPv4 as the
        default endpoint does, and passes one socket to one service.
        """
        section = self.socket["Socket"]
        listen = only(section["ListenStream"])
        self.assertEqual(listen, f"0.0.0.0:{DEFAULT_PORT}")
        self.assertEqual(section["Accept"], ["no"])
        self.assertNotIn("Service", section)

    def test_execStart(self) -> None:
        """
        The service runs clocksvc from its virtualenv, on the socket that
        systemd passes.
        """
        self.assertEqual(self.argv[:3], ["/opt/clocksvc/bin/python", "-m", "clocksvc"])
        self.assertEqual(self.options["listen"], ["systemd:domain=INET:index=0"])

    def test_admin(self) -> None:
        """
        The operator's endpoints are served on the loopback interface only.
        """
        [admin] = self.options["admin-listen"]
        reactor = MemoryReactor()
        serverFromString(reactor, admin).listen(Factory())
        [(_, _, _, interface)] = reactor.tcpServers
        self.assertEqual(interface, "127.0.0.1")

    def test_systemdEndpoint(self) -> None:
        """
        Twisted parses the endpoint description into one that adopts the
        first socket passed, with the address family of the socket that the
        socket unit makes.
        """
        # As systemd passes it: LISTEN_FDS=1 puts the socket on descriptor 3,
        # and LISTEN_FDNAMES names it after the socket unit. Twisted reads
        # the environment once, at import, hence the patch. The endpoint is
        # only parsed: listening would close descriptor 3, which in this
        # process is not a socket of ours.
        self.patch(_SystemdParser, "_sddaemon", ListenFDs([3], ("clocksvc.socket",)))
        [description] = self.options["listen"]
        endpoint = serverFromString(MemoryReactor(), description)
        self.assertIsInstance(endpoint, AdoptedStreamServerEndpoint)
        family = listenStreamFamily(only(self.socket["Socket"]["ListenStream"]))
        self.assertEqual((endpoint.fileno, endpoint.addressFamily), (3, family))

    def test_listenStreamFamily(self) -> None:
        """
        A bare port or a bracketed address makes an IPv6 socket, a dotted
        one an IPv4 socket.
        """
        self.assertEqual(listenStreamFamily("8880"), socket.AF_INET6)
        self.assertEqual(listenStreamFamily("[::]:8880"), socket.AF_INET6)
        self.assertEqual(listenStreamFamily("0.0.0.0:8880"), socket.AF_INET)

    def test_stop(self) -> None:
        """
        Stopping sends SIGTERM and waits longer than the drain may take.
        """
        section = self.service["Service"]
        self.assertEqual(section["KillSignal"], ["SIGTERM"])
        timeout = self.options["shutdown-timeout"]
        self.assertEqual(timeout, 10.0)
        self.assertGreaterEqual(timeout, Options()["shutdown-timeout"])
        stop = systemdSeconds(only(section["TimeoutStopSec"]))
        self.assertEqual(stop, 15)
        self.assertGreater(stop, timeout)

    def test_systemdSeconds(self) -> None:
        """
        Time spans are read with their units.
        """
        self.assertEqual(systemdSeconds("15"), 15)
        self.assertEqual(systemdSeconds("1min 30s"), 90)

    def test_socketActivation(self) -> None:
        """
        The service needs its socket, and is restarted only after a failure.
        """
        self.assertEqual(self.service["Unit"]["Requires"], ["clocksvc.socket"])
        section = self.service["Service"]
        self.assertEqual(section["Restart"], ["on-failure"])
        self.assertEqual(self.service["Install"]["Also"], ["clocksvc.socket"])

    def test_sandbox(self) -> None:
        """
        The service runs as a user made for it, with a read-only system,
        only the address families it serves on, and no capability but the
        one that binds port 123, for C{--ntp-listen 123}.
        """
        section = self.service["Service"]
        expected = {
            "DynamicUser": ["yes"],
            "NoNewPrivileges": ["yes"],
            "ProtectSystem": ["strict"],
            "ProtectHome": ["yes"],
            "PrivateTmp": ["yes"],
            "CapabilityBoundingSet": ["CAP_NET_BIND_SERVICE"],
            "AmbientCapabilities": ["CAP_NET_BIND_SERVICE"],
            "RestrictAddressFamilies": ["AF_INET AF_INET6 AF_UNIX"],
        }
        self.assertEqual({key: section.get(key) for key in expected}, expected)

    def test_ntpListen(self) -> None:
        """
        The service's command line takes C{--ntp-listen 123}, as its
        comment says to add it.
        """
        options = parseArguments([*self.argv[3:], "--ntp-listen", "123"])
        self.assertEqual(options["ntp-listen"], [("", 123)])


class ReloadTests(SynchronousTestCase):
    """
    Both systemd units reopen the log on C{systemctl reload}: SIGHUP to the
    main process.
    """

    def test_execReload(self) -> None:
        """
        C{ExecReload} sends SIGHUP to clocksvc (the supervisor, with
        C{--workers}, which passes it on).
        """
        for name in ["clocksvc.service", "clocksvc-unix.service"]:
            service = unitSections(
                (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
            )
            self.assertEqual(
                service["Service"]["ExecReload"], ["/bin/kill -HUP $MAINPID"], name
            )


class UnixServiceTests(SynchronousTestCase):
    """
    C{deploy/systemd/clocksvc-unix.service} serves behind nginx on a UNIX
    socket that only nginx's group may use, trusts what arrives on it, and
    logs to a file that logrotate rotates.
    """

    def setUp(self) -> None:
        self.service = unitSections(
            (DEPLOY / "systemd" / "clocksvc-unix.service").read_text(encoding="utf-8")
        )
        self.section = self.service["Service"]
        self.argv = shlex.split(only(self.section["ExecStart"]))
        self.options = parseArguments(self.argv[3:])

    def test_socket(self) -> None:
        """
        The socket is in the unit's runtime directory, with mode 660: the
        owner and nginx's group, nobody else.
        """
        self.assertEqual(self.argv[:3], ["/opt/clocksvc/bin/python", "-m", "clocksvc"])
        [description] = self.options["listen"]
        reactor = MemoryReactor()
        serverFromString(reactor, description).listen(Factory())
        [(path, _, _, mode, _)] = reactor.unixServers
        runtime = only(self.section["RuntimeDirectory"])
        self.assertEqual(path, unixSocketPath(self.service))
        self.assertTrue(path.startswith(f"/run/{runtime}/"), path)
        self.assertEqual(mode, 0o660)
        self.assertEqual(only(self.section["Group"]), "www-data")

    def test_trustsTheSocket(self) -> None:
        """
        Forwarding fields are believed from the UNIX socket, nginx's, and
        from nowhere else.
        """
        trusted = self.options.trustedProxies()
        self.assertTrue(trusted.unix)
        self.assertEqual(trusted.networks, ())

    def test_admin(self) -> None:
        """
        The operator's endpoints are on the loopback interface, over IPv4,
        the one family besides the socket's that the unit allows.
        """
        [admin] = self.options["admin-listen"]
        reactor = MemoryReactor()
        serverFromString(reactor, admin).listen(Factory())
        [(_, _, _, interface)] = reactor.tcpServers
        self.assertEqual(interface, "127.0.0.1")
        self.assertEqual(
            only(self.section["RestrictAddressFamilies"]), "AF_UNIX AF_INET"
        )

    def test_accessLog(self) -> None:
        """
        The access log is a file in the unit's logs directory, the one
        logrotate rotates.
        """
        logs = only(self.section["LogsDirectory"])
        self.assertEqual(self.options["access-log"], f"/var/log/{logs}/access.log")
        self.assertEqual(self.options["access-log"], logrotateStanza()[0])

    def test_stop(self) -> None:
        """
        Stopping drains, as clocksvc.service does.
        """
        self.assertEqual(self.section["KillSignal"], ["SIGTERM"])
        stop = systemdSeconds(only(self.section["TimeoutStopSec"]))
        self.assertGreater(stop, self.options["shutdown-timeout"])


def logrotateStanza() -> tuple[str, list[str], list[str]]:
    """
    Read C{deploy/logrotate/clocksvc}: one stanza, its directives one a
    line, and a C{postrotate} script up to C{endscript}.

    @return: the file it rotates, its directives, and its postrotate
        script's lines.
    """
    text = (DEPLOY / "logrotate" / "clocksvc").read_text(encoding="utf-8")
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    path, brace = lines[0].split()
    if brace != "{" or lines[-1] != "}":
        raise ValueError(f"not one stanza: {lines!r}")
    body = lines[1:-1]
    start = body.index("postrotate")
    end = body.index("endscript")
    return path, body[:start] + body[end + 1 :], body[start + 1 : end]


class LogrotateTests(SynchronousTestCase):
    """
    C{deploy/logrotate/clocksvc} renames the access log and has clocksvc
    reopen it with SIGHUP, losing no line.
    """

    def test_reload(self) -> None:
        """
        postrotate reloads the unit that writes the file, whose reload is
        SIGHUP.
        """
        path, _, script = logrotateStanza()
        # try-: a stopped service is left stopped, and the rotation succeeds.
        self.assertEqual(
            script, ["systemctl try-reload-or-restart clocksvc-unix.service"]
        )
        service = unitSections(
            (DEPLOY / "systemd" / "clocksvc-unix.service").read_text(encoding="utf-8")
        )
        argv = shlex.split(only(service["Service"]["ExecStart"]))
        self.assertEqual(parseArguments(argv[3:])["access-log"], path)
        self.assertEqual(service["Service"]["ExecReload"], ["/bin/kill -HUP $MAINPID"])

    def test_directives(self) -> None:
        """
        The file is renamed, never copied and truncated (which loses lines);
        clocksvc creates the new one; the renamed one is compressed only at
        the next rotation, as it may take lines until clocksvc has
        reopened.
        """
        _, directives, _ = logrotateStanza()
        self.assertIn("nocreate", directives)
        self.assertIn("delaycompress", directives)
        self.assertNotIn("copytruncate", directives)


class NginxTests(SynchronousTestCase):
    """
    C{deploy/nginx/clocksvc.conf} proxies to the unit's socket, with the
    fields that clocksvc reads from a trusted proxy.
    """

    def setUp(self) -> None:
        self.text = (DEPLOY / "nginx" / "clocksvc.conf").read_text(encoding="utf-8")
        self.directives = [
            line.strip()
            for line in self.text.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]

    def test_socket(self) -> None:
        """
        The upstream is the UNIX socket that clocksvc-unix.service serves.
        """
        [path] = re.findall(
            r"^server unix:(\S+);$", self.text.replace("    ", ""), re.M
        )
        service = unitSections(
            (DEPLOY / "systemd" / "clocksvc-unix.service").read_text(encoding="utf-8")
        )
        self.assertEqual(path, unixSocketPath(service))

    def test_forwarding(self) -> None:
        """
        nginx appends the client's address to X-Forwarded-For and says the
        scheme; it streams /stream's events as they come.
        """
        for directive in [
            "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
            "proxy_set_header X-Forwarded-Proto $scheme;",
            "proxy_buffering off;",
            "proxy_pass http://clocksvc;",
        ]:
            self.assertIn(directive, self.directives)


class KubernetesProxyTests(SynchronousTestCase):
    """
    The Kubernetes manifest trusts the pod network, where an Ingress or
    Gateway controller's pods run.
    """

    def test_trustedProxy(self) -> None:
        """
        C{--trusted-proxy} names a private network, and nothing else.
        """
        with (DEPLOY / "kubernetes.yaml").open(encoding="utf-8") as f:
            [deployment] = [
                d for d in yaml.safe_load_all(f) if d["kind"] == "Deployment"
            ]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        trusted = parseArguments(container["args"]).trustedProxies()
        self.assertFalse(trusted.unix)
        [network] = trusted.networks
        self.assertTrue(network.is_private, network)


class ClassifierTests(SynchronousTestCase):
    """
    C{pyproject.toml}'s classifiers name every Python version clocksvc
    supports.
    """

    def test_pythonVersions(self) -> None:
        """
        From C{requires-python}'s minimum to the newest Python the project
        is checked on (3.13, through pyenv), every minor version is listed,
        and the one these tests run on is among them.
        """
        text = (DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8")
        [minimum] = re.findall(r'^requires-python = ">=3\.(\d+)"$', text, re.M)
        listed = {
            int(minor)
            for minor in re.findall(
                r'"Programming Language :: Python :: 3\.(\d+)"', text
            )
        }
        self.assertEqual(listed, set(range(int(minimum), 14)))
        self.assertIn(sys.version_info[1], listed)
