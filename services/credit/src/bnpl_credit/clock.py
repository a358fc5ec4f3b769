"""The service's clock: real UTC time, optionally shifted by a test-controlled offset.

``CLOCK_OFFSET_FILE`` names a file holding a number of seconds; every ``now()`` reads it
(missing or empty file: no offset). End-to-end tests use it to move the separately running
service through due dates, lateness and expiry. It is honoured only when ``BNPL_ENV`` is
local or test: the settings refuse it for ``aws`` at startup.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bnpl_common.clock import Clock, SystemClock


class OffsetFileClock:
    def __init__(self, path: str | Path, base: Clock | None = None) -> None:
        self._path = Path(path)
        self._base = base or SystemClock()

    def offset(self) -> timedelta:
        try:
            text = self._path.read_text().strip()
        except FileNotFoundError:
            return timedelta(0)
        return timedelta(seconds=float(text)) if text else timedelta(0)

    def now(self) -> datetime:
        return self._base.now() + self.offset()
