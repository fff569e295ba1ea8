"""
The Twisted Web lesson "Generating a Page Dynamically", as printed, for the
benchmark to compare clocksvc with: C{python lesson.py PORT}.

Two changes only: C{render_GET} returns bytes (the lesson's C{str} is a 500
on Python 3), and it listens on 127.0.0.1 at the port given. As in the
lesson, the page is a leaf, so it answers every path, C{/now} included, and
the Site's access log goes to Twisted's (unobserved) log.
"""

import sys
import time

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site


class ClockPage(Resource):
    isLeaf = True

    def render_GET(self, request: object) -> bytes:
        return ("<html><body>%s</body></html>" % (time.ctime(),)).encode()  # noqa: UP031


resource = ClockPage()
factory = Site(resource)
# Site is a ServerFactory, but Twisted annotates its protocol attribute in a
# way mypy cannot match to listenTCP's parameter type (as in clocksvc._site).
reactor.listenTCP(int(sys.argv[1]), factory, interface="127.0.0.1")  # type: ignore[arg-type]
reactor.run()
