"""Named points where a test can make ethnet die, to prove an interrupted run recovers.

``ETHNET_FAILPOINT=<name>`` makes the process kill itself with SIGKILL (no cleanup, no
``finally``: what a power cut or ``kill -9`` does) when it reaches that point. Unset, a
failpoint costs one dictionary look-up. The interrupted-sync tests also kill ethnet at
random moments from outside; failpoints make sure the narrow windows are hit too.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "ETHNET_FAILPOINT"


def failpoint(name: str) -> None:
    """Die here if ``ETHNET_FAILPOINT`` names this point."""
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
