# The twist and twistd plugin: `twist clocksvc [options]`, with the options
# of `python -m clocksvc`. Lazy: clocksvc is imported only when chosen.
from twisted.application.service import ServiceMaker

clocksvc = ServiceMaker(
    "clocksvc",
    "clocksvc._run._tap",
    "A self-hostable HTTP time service (see python -m clocksvc --help).",
    "clocksvc",
)
