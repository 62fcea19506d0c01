"""JSON log lines, each carrying the request id of the request being served."""

import logging
import time
from contextvars import ContextVar

from pydantic_core import to_json

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Each record would look these up (the caller's frame, thread, process), and our lines carry
# none of them; switching them off is the logging HOWTO's own advice ("Optimization").
logging._srcfile = None
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


class UtcClock:
    """A line's time: ISO 8601 UTC with milliseconds. Lines come many per second, so the date
    and time are formatted once per second."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, created: float) -> str:
        whole = int(created)
        second, text = self._second
        if whole != second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
            self._second = (whole, text)
        return f"{text}.{int((created - whole) * 1000):03d}Z"


def json_entry(
    ts: str, level: str, logger: str, msg: str, fields: dict[str, object] | None
) -> dict[str, object]:
    """One line's keys, in order: its time, level, logger and message, the request id of the
    request being served, then the line's own fields."""
    entry: dict[str, object] = {"ts": ts, "level": level, "logger": logger, "msg": msg}
    request_id = request_id_var.get()
    if request_id:
        entry["request_id"] = request_id
    if fields:
        entry.update(fields)
    return entry


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._clock = UtcClock()

    def format(self, record: logging.LogRecord) -> str:
        entry = json_entry(
            self._clock(record.created),
            record.levelname,
            record.name,
            record.getMessage(),
            getattr(record, "fields", None),
        )
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # pydantic-core's encoder (Rust): one line per request, and json.dumps is slower.
        return to_json(entry, fallback=str).decode()


def logging_config(level: str) -> dict:
    """dictConfig shared by gunicorn (logconfig_dict) and a plain uvicorn run."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.core.logging.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            # Our middleware writes the access log; these would duplicate it.
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
