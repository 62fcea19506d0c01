"""Our app's own cost per request, without a server: CPU microseconds per request when the
ASGI app is called directly, one request at a time (what tuning the middleware moves).

    python -m loadtest.inprocess [--path /api/v1/ping] [--requests 20000] [--bare] [--profile]
                                 [--metrics-in-memory]

No database is needed for routes that do not use one. The figure is CPU time of this process
(time.process_time), so a busy machine disturbs it less than a wall clock would.
"""

import argparse
import asyncio
import cProfile
import logging
import logging.config
import os
import pstats
import sys
import tempfile
import time

os.environ.setdefault("ENVIRONMENT", "test")


def _scope(path: str) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"127.0.0.1"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip


async def _request(app, path: str) -> int:
    status = 0

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(path), receive, send)
    return status


async def _measure(app, path: str, requests: int, profile: bool) -> float:
    async with app.router.lifespan_context(app):
        for _ in range(200):
            if (status := await _request(app, path)) != 200:
                raise SystemExit(f"{path} answered {status}")
        profiler = cProfile.Profile(time.process_time) if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(requests):
            await _request(app, path)
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return (time.process_time() - started) / requests * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/api/v1/ping")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--bare", action="store_true", help="loadtest.benchapps:bare instead")
    parser.add_argument("--profile", action="store_true", help="cProfile's top 30 by own time")
    parser.add_argument(
        "--metrics-in-memory",
        action="store_true",
        help="prometheus_client's in-memory values, not the multiprocess files the server writes",
    )
    args = parser.parse_args(argv)
    # prometheus_client picks its value class from this variable when first imported.
    if args.metrics_in_memory:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    else:
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="inprocess-"))
    if args.bare:
        from loadtest.benchapps import bare as app
    else:
        from app.core.logging import logging_config

        # Every log line, the access log's too, is still formatted and written: to nowhere.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        logging.config.dictConfig(logging_config("INFO"))
        from app.main import app
    us = asyncio.run(_measure(app, args.path, args.requests, args.profile))
    print(f"{'bare FastAPI' if args.bare else 'service'} {args.path}: {us:.1f} us/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
