"""
Tests for L{clocksvc._web._openapi}: C{/openapi.json} is valid OpenAPI 3.1,
C{/openapi-3.2.json} valid OpenAPI 3.2, assembled from the routes'
fragments, and they describe every path the site serves; and for
L{tests._openapi}, the checker that holds every HTTP test's responses to
the 3.2 one.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from treq.response import _Response
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from clocksvc._time._document import documentJSON, timeDocument
from clocksvc._time._zones import defaultCatalogue
from clocksvc._web._geoip import GeoIP
from clocksvc._web._openapi import Fragment
from clocksvc._web._routes import ROUTES, openAPIDocument
from clocksvc._web._site import buildSite

from ._geoip import writeDatabase
from ._helpers import BILLENNIUM, RawConnection, StubClient, clockAt, dechunk, stubTreq
from ._openapi import SpecMismatch, _Spec, serverSentEvents, validateResponse
from ._roughtime import roughtimeService

try:
    from openapi_spec_validator import OpenAPIV32SpecValidator
except ImportError:  # pragma: no cover (PyPy 3.9)
    # 0.8.2, the first release that validates OpenAPI 3.2, needs Python 3.10:
    # Debian's PyPy 3.9 has 0.7, and checks responses, not the document.
    NO_32: str | None = "openapi-spec-validator cannot validate OpenAPI 3.2 here"
else:
    NO_32 = None

JSON = "application/json; charset=utf-8"
STREAM_EVENT = "#/components/schemas/StreamEvent"
TEXT = "text/plain; charset=utf-8"
EVENTS = "text/event-stream; charset=utf-8"


def fetch(
    testCase: SynchronousTestCase,
    treq: StubClient,
    method: str,
    path: str,
    **kwargs: Any,
) -> tuple[_Response, bytes]:
    """
    @return: the response to C{method} on C{path} and its body, which
        C{treq} gives at once: it talks to the site in memory.
    """
    response = testCase.successResultOf(
        treq.request(method, "http://clock.example" + path, **kwargs)
    )
    return response, testCase.successResultOf(response.content())


def contentType(response: _Response) -> str | None:
    """
    @return: the response's one C{Content-Type}, or L{None}.
    """
    values = response.headers.getRawHeaders("content-type")
    return None if values is None else values[0]


def check(method: str, path: str, response: _Response, body: bytes) -> None:
    """
    Validate a response against the document, with the path's query string
    left out.
    """
    validateResponse(
        method, path.partition("?")[0], response.code, contentType(response), body
    )


def berlinDocument() -> dict[str, Any]:
    """
    @return: the time document for Europe/Berlin at the billennium, parsed.
    """
    zone = defaultCatalogue.zone("Europe/Berlin")
    assert zone is not None
    parsed: dict[str, Any] = json.loads(
        documentJSON(timeDocument(BILLENNIUM, zone, "127.0.0.1"))
    )
    return parsed


class DocumentTests(SynchronousTestCase):
    """
    C{/openapi.json} serves L{openAPIDocument} in OpenAPI 3.1, and
    C{/openapi-3.2.json} in 3.2; both are valid.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM)
        self.treq = stubTreq(buildSite(self.clock).resource)

    def test_served(self) -> None:
        """
        C{/openapi.json} is L{openAPIDocument} in 3.1 as JSON, and
        C{/openapi-3.2.json} in 3.2.
        """
        for path, version in [
            ("/openapi.json", "3.1.0"),
            ("/openapi-3.2.json", "3.2.0"),
        ]:
            response, body = fetch(self, self.treq, "GET", path)
            self.assertEqual(response.code, 200)
            self.assertEqual(contentType(response), JSON)
            self.assertEqual(json.loads(body), openAPIDocument(version))
            self.assertEqual(json.loads(body)["openapi"], version)
            check("GET", path, response, body)
        self.assertFalse(self.clock.calls)

    def test_valid31(self) -> None:
        """
        The document at C{/openapi.json} is valid OpenAPI 3.1, which most
        tools read.
        """
        _, body = fetch(self, self.treq, "GET", "/openapi.json")
        validate(json.loads(body), cls=OpenAPIV31SpecValidator)

    def test_valid(self) -> None:
        """
        The document at C{/openapi-3.2.json} is valid OpenAPI 3.2, the first
        version with C{itemSchema} for C{/stream}'s events.
        """
        if NO_32 is not None:
            raise SkipTest(NO_32)
        _, body = fetch(self, self.treq, "GET", "/openapi-3.2.json")
        document = json.loads(body)
        self.assertEqual(document["openapi"], "3.2.0")
        validate(document, cls=OpenAPIV32SpecValidator)

    def test_streamIn31(self) -> None:
        """
        3.1 has no C{itemSchema}: C{/stream}'s events are a string there,
        where 3.2 describes each; the two differ in nothing else.
        """
        documents = {
            v: json.loads(json.dumps(openAPIDocument(v))) for v in ("3.1.0", "3.2.0")
        }
        contents = {}
        for version, document in documents.items():
            self.assertEqual(document["openapi"], version)
            document["openapi"] = None
            for method in ("get", "head"):
                response = document["paths"]["/stream"][method]["responses"]["200"]
                contents[version, method] = response.pop("content")
        self.assertEqual(documents["3.1.0"], documents["3.2.0"])
        for method in ("get", "head"):
            self.assertEqual(
                contents["3.2.0", method],
                {"text/event-stream": {"itemSchema": {"$ref": STREAM_EVENT}}},
            )
            [described] = contents["3.1.0", method].values()
            self.assertEqual(list(described), ["schema"])
            self.assertEqual(described["schema"]["type"], "string")

    def test_itemSchemaNeeds32(self) -> None:
        """
        The validator knows C{itemSchema} as 3.2's: the 3.2 document
        labelled 3.1 is invalid.
        """
        if NO_32 is not None:
            raise SkipTest(NO_32)
        document = copy.deepcopy(openAPIDocument("3.2.0"))
        document["openapi"] = "3.1.0"
        self.assertRaises(OpenAPIValidationError, validate, document)

    def test_validatorRejects(self) -> None:
        """
        The validator is no rubber stamp: the document with a path parameter
        left undeclared is invalid.
        """
        document = copy.deepcopy(openAPIDocument())
        del document["paths"]["/api/timezone/{area}"]["get"]["parameters"]
        self.assertRaises(OpenAPIValidationError, validate, document)

    def test_fromTheRoutes(self) -> None:
        """
        The description is the routes' fragments, each path where its
        route's is, each schema from the fragment of a route that uses it;
        and every public path, only they, answers C{OPTIONS}.
        """
        document = openAPIDocument("3.2.0")
        self.assertEqual(
            list(document["paths"]), [path for route in ROUTES for path in route.paths]
        )
        for route in ROUTES:
            for path, item in route.openapi.paths.items():
                described = dict(document["paths"][path])
                self.assertEqual("options" in described, not route.admin, path)
                described.pop("options", None)
                self.assertEqual(described, item, path)
        used = set(re.findall(r"#/components/schemas/(\w+)", json.dumps(document)))
        self.assertEqual(used, set(document["components"]["schemas"]))

    def test_fragmentsAdd(self) -> None:
        """
        Two fragments make one, with the paths and schemas of both.
        """
        both = Fragment({"/a": {}}, {"A": {}}) + Fragment({"/b": {}}, {"B": {}})
        self.assertEqual(
            (list(both.paths), list(both.schemas)), (["/a", "/b"], ["A", "B"])
        )


class EveryPathTests(SynchronousTestCase):
    """
    Every path the document describes is served as it says, and every path
    the site serves is in the document.
    """

    def setUp(self) -> None:
        geoip = GeoIP(writeDatabase(self.mktemp()))
        clock = clockAt(BILLENNIUM)
        roughtime = roughtimeService(clock)
        self.treq = stubTreq(
            buildSite(clock, geoip=geoip, roughtime=roughtime).resource
        )

    def test_everyTemplate(self) -> None:
        """
        Each path template, with the document's example for each path
        parameter, answers GET and HEAD with success (204 for
        C{/.well-known/time}, 200 for the rest), and OPTIONS where it is
        documented with 204, and a response the document describes: each
        example names a zone or an area that exists.
        """
        templates = openAPIDocument("3.2.0")["paths"]
        for template in templates:
            names = re.findall(r"\{(\w+)\}", template)
            examples = {
                parameter["name"]: parameter["example"]
                for operation in templates[template].values()
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "path"
            }
            self.assertEqual(sorted(names), sorted(examples), template)
            path = template
            for name, value in examples.items():
                path = path.replace("{" + name + "}", value)
            # Required query parameters (/api/convert's) take their examples.
            required = [
                f"{parameter['name']}={parameter['schema']['example']}"
                for parameter in templates[template]
                .get("get", {})
                .get("parameters", [])
                if parameter["in"] == "query" and parameter["required"]
            ]
            if required:
                path += "?" + "&".join(required)
            # /timesync is POST only, and a GET of /stream never ends:
            # TimesyncTests and StreamTests cover them.
            methods = [
                m
                for m in ["GET", "HEAD", "OPTIONS"]
                if m.lower() in templates[template]
            ]
            if template == "/stream":
                methods = ["HEAD", "OPTIONS"]
            for method in methods:
                response, body = fetch(self, self.treq, method, path)
                expected = (
                    204 if path == "/.well-known/time" or method == "OPTIONS" else 200
                )
                if (
                    path in ("/api/ip", "/api/ip.txt", "/developer/api/ip")
                    and method != "OPTIONS"
                ):
                    # The stub's client is 127.0.0.1, which has no location:
                    # GeoIPTests cover these with public addresses.
                    expected = 404
                self.assertEqual(response.code, expected, (method, path))
                check(method, path, response, body)
        # clocksvc's own 35 (with /api/coordinates, /api/leap-seconds,
        # /roughtime.json and /openapi-3.2.json), timeapi.io's 8 and
        # time.now's 5.
        self.assertEqual(len(templates), 48)

    def test_everyEndpoint(self) -> None:
        """
        Each of the site's endpoints, with its query parameters, content
        negotiation and errors, answers as the document says.
        """
        for method, path, accept, code, expectedType in [
            ("GET", "/", "text/html", 200, "text/html; charset=utf-8"),
            ("GET", "/", "application/json", 200, JSON),
            ("GET", "/", "text/plain", 200, TEXT),
            ("GET", "/?iso", None, 200, TEXT),
            ("GET", "/?ms", None, 200, TEXT),
            ("GET", "/?iso&ms", None, 200, TEXT),
            ("GET", "/?tz=No/Where", "application/json", 404, JSON),
            ("GET", "/now", None, 200, JSON),
            ("GET", "/now", "text/plain", 200, TEXT),
            ("GET", "/now?tz=Asia/Tokyo", None, 200, JSON),
            ("GET", "/now?tz=bad!", None, 400, JSON),
            ("GET", "/now?tz=UTC&tz=UTC", None, 400, JSON),
            ("GET", "/now?tz=No/Where", None, 404, JSON),
            ("GET", "/now.json", None, 200, JSON),
            ("GET", "/now.txt", None, 200, TEXT),
            ("GET", "/now.txt?tz=bad!", None, 400, TEXT),
            ("GET", "/now.txt?tz=No/Where", None, 404, TEXT),
            ("GET", "/api/timezone", None, 200, JSON),
            ("GET", "/api/timezone.txt", None, 200, TEXT),
            ("GET", "/api/timezone/Europe", None, 200, JSON),
            ("GET", "/api/timezone/Nowhere", None, 404, JSON),
            ("GET", "/api/timezone/Nowhere.txt", None, 404, TEXT),
            ("GET", "/api/timezone/No/Where/At/All", None, 404, JSON),
            ("GET", "/api/timezone/Europe/Berlin", None, 200, JSON),
            ("GET", "/api/timezone/Europe/Berlin.txt", None, 200, TEXT),
            ("GET", "/api/ip/81.2.69.142", None, 200, JSON),
            ("GET", "/api/ip/2001:4860::1.txt", None, 200, TEXT),
            ("GET", "/api/ip/10.0.0.1", None, 404, JSON),
            ("GET", "/api/ip/8.8.8.8.txt", None, 404, TEXT),
            ("GET", "/api/ip/not-an-address", None, 400, JSON),
            ("GET", "/api/ip/1.2.3.4.5.txt", None, 400, TEXT),
            ("GET", "/api/ip", None, 404, JSON),
            ("GET", "/api/ip.txt", None, 404, TEXT),
            ("GET", "/openapi.json", None, 200, JSON),
            ("GET", "/nowhere", None, 404, TEXT),
            ("HEAD", "/now?tz=bad!", None, 400, JSON),
            ("HEAD", "/api/timezone/Nowhere", None, 404, JSON),
            ("POST", "/", None, 405, TEXT),
            ("POST", "/now", None, 405, JSON),
            ("DELETE", "/api/timezone/Europe/Berlin.txt", None, 405, TEXT),
            ("PUT", "/openapi.json", None, 405, TEXT),
        ]:
            headers = {} if accept is None else {"accept": [accept]}
            response, body = fetch(self, self.treq, method, path, headers=headers)
            self.assertEqual(
                (response.code, contentType(response)),
                (code, expectedType),
                (method, path),
            )
            check(method, path, response, body)

    def test_tzPattern(self) -> None:
        """
        The document's pattern for C{?tz} is the server's: a name it matches
        is looked up (200 or 404), and a name it does not is 400.
        """
        pattern = re.compile(
            openAPIDocument()["paths"]["/now"]["get"]["parameters"][0]["schema"][
                "pattern"
            ]
        )
        for name, code in [
            ("Europe/Berlin", 200),
            ("america/argentina/salta", 200),
            ("Etc/GMT+5", 200),
            ("No/Where", 404),
            ("A/B/C", 404),
            ("x" * 40, 404),
            ("x" * 41, 400),
            ("", 400),
            ("A/B/C/D", 400),
            ("Europe/", 400),
            ("Europe Berlin", 400),
            ("Europe.Berlin", 400),
        ]:
            response, _ = fetch(self, self.treq, "GET", "/now", params={"tz": name})
            self.assertEqual(response.code, code, name)
            self.assertEqual(bool(pattern.search(name)), code != 400, name)

    def test_t1Pattern(self) -> None:
        """
        The document's pattern for C{?t1} is the server's: a value it
        matches is taken (200), and one it does not is 400, up to the last
        millisecond of the year 9999.
        """
        [t1] = [
            parameter
            for parameter in openAPIDocument()["paths"]["/now"]["get"]["parameters"]
            if parameter["name"] == "t1"
        ]
        pattern = re.compile(t1["schema"]["pattern"])
        for value, code in [
            ("0", 200),
            ("1700000000000.5", 200),
            ("99999999999999", 200),
            ("099999999999999", 200),
            ("253402300799999", 200),
            ("253402300799999.999999", 200),
            ("253402300799990.5", 200),
            ("253402300800000", 400),
            ("604904755295145", 400),
            ("999999999999999", 400),
            ("1000000000000000", 400),
            ("1.1234567", 400),
            ("1.", 400),
            ("-1", 400),
            ("1e3", 400),
            ("", 400),
        ]:
            response, _ = fetch(self, self.treq, "GET", "/now", params={"t1": value})
            self.assertEqual(response.code, code, value)
            self.assertEqual(bool(pattern.search(value)), code == 200, value)


class ValidateResponseTests(SynchronousTestCase):
    """
    L{validateResponse} accepts what the document describes, and raises
    L{SpecMismatch} with a one-line message for anything else.
    """

    def assertMismatch(
        self,
        message: str,
        method: str,
        path: str,
        status: int,
        contentType: str | None,
        body: bytes,
    ) -> None:
        """
        Assert that L{validateResponse} raises L{SpecMismatch} with
        C{message}.
        """
        error = self.assertRaises(
            SpecMismatch, validateResponse, method, path, status, contentType, body
        )
        self.assertEqual(str(error), message)

    def test_accepts(self) -> None:
        """
        Responses the document describes pass.
        """
        document = json.dumps(berlinDocument()).encode()
        for method, path, status, contentType, body in [
            ("GET", "/api/timezone/Europe/Berlin", 200, JSON, document),
            ("GET", "/now", 200, "Application/JSON", document),
            ("GET", "/api/timezone/Europe", 200, JSON, b'["Europe/Berlin"]'),
            ("GET", "/api/timezone/Europe.txt", 200, TEXT, b"Europe/Berlin\n"),
            ("GET", "/now", 404, JSON, b'{"error": "unknown location"}'),
            ("HEAD", "/now.json", 200, JSON, b""),
        ]:
            validateResponse(method, path, status, contentType, body)

    def test_notFound(self) -> None:
        """
        A path the document does not describe may be answered 404, in any
        form.
        """
        validateResponse("GET", "/nowhere", 404, TEXT, b"gone\n")

    def test_unknownPath(self) -> None:
        """
        A path the document does not describe must not be answered 200.
        """
        self.assertMismatch(
            "GET /nowhere 200: no path in the document matches",
            "GET",
            "/nowhere",
            200,
            TEXT,
            b"here\n",
        )

    def test_parameterPattern(self) -> None:
        """
        A path parameter must match its pattern for the path to match: an
        area with a dot in it is no path of the document's.
        """
        self.assertMismatch(
            "GET /api/timezone/Eu.rope 200: no path in the document matches",
            "GET",
            "/api/timezone/Eu.rope",
            200,
            JSON,
            b"[]",
        )

    def test_undocumentedMethod(self) -> None:
        """
        405 is the answer to a method the path does not document, whatever
        the body; but a documented method must not be answered 405.
        """
        validateResponse("POST", "/now", 405, JSON, b'{"error": "no"}')
        self.assertMismatch(
            "GET /now 405: /now documents no response for status 405",
            "GET",
            "/now",
            405,
            JSON,
            b'{"error": "method not allowed"}',
        )

    def test_undocumentedMethodOtherStatus(self) -> None:
        """
        A method the path does not document must not succeed.
        """
        self.assertMismatch(
            "POST /now 200: /now documents no POST",
            "POST",
            "/now",
            200,
            JSON,
            b"{}",
        )

    def test_wrongStatus(self) -> None:
        """
        A status code the operation does not document is a mismatch.
        """
        self.assertMismatch(
            "GET /api/timezone 404: /api/timezone documents no response for status 404",
            "GET",
            "/api/timezone",
            404,
            JSON,
            b'{"error": "unknown location"}',
        )

    def test_missingField(self) -> None:
        """
        A JSON body without a required field is a mismatch.
        """
        document = berlinDocument()
        del document["unixtime_ms"]
        self.assertMismatch(
            "GET /now.json 200: body at $: 'unixtime_ms' is a required property",
            "GET",
            "/now.json",
            200,
            JSON,
            json.dumps(document).encode(),
        )

    def test_missingFieldInOneOf(self) -> None:
        """
        Under C{oneOf}, the message names the field missing from the
        alternative that came closest.
        """
        document = berlinDocument()
        del document["utc_offset"]
        self.assertMismatch(
            "GET /api/timezone/Europe/Berlin 200: body at $: 'utc_offset' is a "
            "required property",
            "GET",
            "/api/timezone/Europe/Berlin",
            200,
            JSON,
            json.dumps(document).encode(),
        )

    def test_dateTime(self) -> None:
        """
        Formats are checked: C{utc_datetime} must be a date-time.
        """
        document = berlinDocument()
        document["utc_datetime"] = "yesterday"
        self.assertMismatch(
            "GET /now 200: body at $.utc_datetime: 'yesterday' is not a 'date-time'",
            "GET",
            "/now",
            200,
            JSON,
            json.dumps(document).encode(),
        )

    def test_notJSON(self) -> None:
        """
        A body labelled JSON must be JSON.
        """
        error = self.assertRaises(
            SpecMismatch,
            validateResponse,
            "GET",
            "/api/timezone",
            200,
            JSON,
            b"Europe/Berlin\n",
        )
        self.assertTrue(
            str(error).startswith("GET /api/timezone 200: body is not JSON: "),
            str(error),
        )
        self.assertNotIn("\n", str(error))

    def test_wrongContentType(self) -> None:
        """
        A media type the response does not document is a mismatch.
        """
        self.assertMismatch(
            "GET /api/timezone/Europe/Berlin.txt 200: Content-Type "
            "application/json; charset=utf-8 is not one of text/plain",
            "GET",
            "/api/timezone/Europe/Berlin.txt",
            200,
            JSON,
            json.dumps(berlinDocument()).encode(),
        )

    def test_noContentType(self) -> None:
        """
        A response that documents a body must say what type it is.
        """
        self.assertMismatch(
            "GET /now.txt 200: no Content-Type",
            "GET",
            "/now.txt",
            200,
            None,
            b"abbreviation: CEST\n",
        )

    def test_headBody(self) -> None:
        """
        A response to HEAD has no body.
        """
        self.assertMismatch(
            "HEAD /now.json 200: HEAD response has a body of 2 bytes",
            "HEAD",
            "/now.json",
            200,
            JSON,
            b"{}",
        )

    def test_literalFirst(self) -> None:
        """
        A path matches a literal template before a templated one, and a
        templated one with more literal text before one with less.
        """

        def pathItem(mediaType: str) -> dict[str, Any]:
            return {
                "get": {
                    "responses": {
                        "200": {"description": "", "content": {mediaType: {}}}
                    }
                }
            }

        spec = _Spec(
            {
                "paths": {
                    "/things/{id}": pathItem("application/x-thing"),
                    "/things/{id}.txt": pathItem("text/plain"),
                    "/things/mine": pathItem("application/x-mine"),
                }
            }
        )
        spec.validate("GET", "/things/mine", 200, "application/x-mine", b"m")
        spec.validate("GET", "/things/1", 200, "application/x-thing", b"t")
        spec.validate("GET", "/things/1.txt", 200, "text/plain", b"t")
        self.assertRaises(
            SpecMismatch,
            spec.validate,
            "GET",
            "/things/mine",
            200,
            "application/x-thing",
            b"t",
        )


class StreamEventTests(SynchronousTestCase):
    """
    Each event of C{/stream} is as the document's C{itemSchema} says, the
    time document in its C{data} included; and L{validateResponse} holds an
    event stream to it.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM + 0.25)
        self.site = buildSite(self.clock)

    def streamBody(self) -> bytes:
        """
        @return: a whole C{/stream} body from the site: the retry, two
            ticks, and the shutdown event that ends it.
        """
        connection = RawConnection(self.site)
        connection.send(b"GET /stream?tz=Europe/Berlin HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _, chunks = connection.received().partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
        self.clock.advance(0.75)
        self.clock.advance(1)
        self.site.resource.getStaticEntity(b"stream").closeAll()
        chunks += connection.received()
        # The last chunk, of size 0, ends the body.
        self.assertTrue(chunks.endswith(b"0\r\n\r\n"), chunks[-20:])
        return dechunk(chunks)

    def test_served(self) -> None:
        """
        A real stream's events pass, and there are the events expected:
        two ticks and the shutdown, which keeps the last tick's id.
        """
        body = self.streamBody()
        validateResponse("GET", "/stream", 200, EVENTS, body)
        self.assertEqual(
            [(event["event"], event["id"]) for event in serverSentEvents(body)],
            [
                ("tick", "1000000001"),
                ("tick", "1000000002"),
                ("shutdown", "1000000002"),
            ],
        )

    def test_dataChecked(self) -> None:
        """
        A tick whose time document lacks a field is a mismatch, found in
        the JSON of its C{data}.
        """
        body = re.sub(rb'"unixtime_ms":[0-9]+,', b"", self.streamBody(), count=1)
        self.assertMismatch(
            "GET /stream 200: event 0 at $.data: 'unixtime_ms' is a required property",
            body,
        )

    def test_dataNotJSON(self) -> None:
        """
        A tick whose C{data} is not JSON is a mismatch.
        """
        error = self.assertRaises(
            SpecMismatch,
            validateResponse,
            "GET",
            "/stream",
            200,
            EVENTS,
            b"id: 1\nevent: tick\ndata: {\n\n",
        )
        self.assertTrue(
            str(error).startswith("GET /stream 200: event 0 at $.data: '{'"),
            str(error),
        )

    def test_unknownEvent(self) -> None:
        """
        An event the document does not name is a mismatch, and so is a tick
        without an id.
        """
        self.assertMismatch(
            "GET /stream 200: event 0 at $.event: 'message' is not one of "
            "['tick', 'step', 'shutdown']",
            b'data: {"reason": "x"}\n\n',
        )
        self.assertMismatch(
            "GET /stream 200: event 0 at $: 'id' is a required property",
            b'event: tick\ndata: {"reason": "x"}\n\n',
        )

    def assertMismatch(self, message: str, body: bytes) -> None:
        """
        Assert that L{validateResponse} finds C{message} wrong with the
        event stream C{body}.
        """
        error = self.assertRaises(
            SpecMismatch, validateResponse, "GET", "/stream", 200, EVENTS, body
        )
        self.assertEqual(str(error), message)


class ServerSentEventsTests(SynchronousTestCase):
    """
    L{serverSentEvents} parses an event stream as the HTML standard does.
    """

    def test_parse(self) -> None:
        """
        A block without C{data} is no event, but its C{id} carries on;
        C{data} lines join; C{event} defaults to C{message}; C{retry} is an
        integer of its own block; comments, an id with a NUL and a block
        that no empty line ends are left out; any line break ends a line.
        """
        body = (
            b"retry: 1000\nid: 7\n\n"
            b": a comment\r\ndata: a\r\ndata:b\r\n\r\n"
            b"id: 8\x00\revent: tick\rretry: 5\rdata\r\r"
            b"data: unfinished"
        )
        self.assertEqual(
            serverSentEvents(body),
            [
                {"event": "message", "id": "7", "data": "a\nb"},
                {"event": "tick", "id": "7", "retry": 5, "data": ""},
            ],
        )
