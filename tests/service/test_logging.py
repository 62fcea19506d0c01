"""The JSON log line's timestamp: UTC with milliseconds, right across second boundaries (the
formatter reuses the date and time it formatted for the same second)."""

import json
import logging
from datetime import UTC, datetime

from app.core.logging import JsonFormatter


def line_at(formatter: JsonFormatter, created: float) -> dict:
    record = logging.LogRecord("app", logging.INFO, "", 0, "request", None, None)
    record.created = created
    record.msecs = (created - int(created)) * 1000
    return json.loads(formatter.format(record))


def test_each_line_carries_its_own_second_and_millisecond():
    formatter = JsonFormatter()
    # Binary fractions, so each time's milliseconds are exact; a second boundary, a step back
    # into the previous second, and an hour later.
    times = [1796223599.75, 1796223599.875, 1796223600.125, 1796223599.5, 1796227200.0]
    stamps = [line_at(formatter, created)["ts"] for created in times]
    assert stamps == [
        datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
        for created in times
    ]
    assert stamps[2] == "2026-12-02T15:00:00.125Z"
