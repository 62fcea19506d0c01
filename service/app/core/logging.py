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


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        # Lines come many per second: the date and time are formatted once per second.
        self._second: tuple[int, str] = (-1, "")

    def _timestamp(self, record: logging.LogRecord) -> str:
        second, text = self._second
        if int(record.created) != second:
            second = int(record.created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": self._timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(extra)
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
