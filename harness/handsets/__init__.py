"""Opening handsets by URI: one module per scheme, one registry that maps a scheme to its module.

    emulator://PROFILE?OPTIONS   harness.handsets.emulator   (starts an emulated handset)
    adb-tcp://HOST:PORT          harness.handsets.adb_tcp
    adb-usb://SERIAL             harness.handsets.adb_usb

``open_handset(uri)`` gives an ``OpenedHandset`` (the ``Handset`` plus its
profile, serial endpoints and whatever was started for it); ``parse_uri``
checks a URI without opening anything; ``probe_uri`` asks the URI's scheme
whether its handset is there (what ``harness devices`` shows). A rack handset opened under its lease
is ``harness.lab.leased_handset``'s business, above this package.
"""

from harness.handsets.base import (
    HandsetUri, HandsetUriError, Hold, OpenedHandset, OpenOptions, Probed, ProbeOptions, SchemeModule,
)
from harness.handsets.registry import (
    SCHEMES, connect_handset, connect_when_up, open_handset, pace, parse_uri, probe_uri, scheme_module,
    starts_handset, usages, with_options,
)

__all__ = ["HandsetUri", "HandsetUriError", "Hold", "OpenedHandset", "OpenOptions", "Probed", "ProbeOptions",
           "SchemeModule", "SCHEMES", "connect_handset", "connect_when_up", "open_handset", "pace", "parse_uri",
           "probe_uri", "scheme_module", "starts_handset", "usages", "with_options"]
