"""The fixed clock of the samples: the bureau's zone, the default moment, zip (MS-DOS) timestamps."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
_FIXED = datetime(2025, 1, 1, 8, 0, tzinfo=TZ)
DosTime = tuple[int, int, int, int, int, int]


def _dos_time(when: datetime) -> DosTime:
    return (when.year, when.month, when.day, when.hour, when.minute, when.second - when.second % 2)
