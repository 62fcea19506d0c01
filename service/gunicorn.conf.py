"""gunicorn settings, derived from the app's settings (the same environment variables)."""

import gc
import json
import logging
import os
from pathlib import Path

from app.core.config import get_settings
from app.core.logging import logging_config
from app.core.workers import WorkerPlanError, plan_from_settings
from prometheus_client import multiprocess

settings = get_settings()
try:
    plan = plan_from_settings(settings)
except WorkerPlanError as error:
    raise SystemExit(f"refusing to start: {error}") from None

# Workers read these to publish app_workers{source}.
os.environ["APP_WORKERS"] = str(plan.workers)
os.environ["APP_WORKERS_SOURCE"] = plan.source

bind = f"{settings.HOST}:{settings.PORT}"
workers = plan.workers
worker_class = "uvicorn_worker.UvicornWorker"
# Must stay below the pod's terminationGracePeriodSeconds minus its preStop pause.
graceful_timeout = settings.GRACEFUL_TIMEOUT_S
timeout = 30
# Longer than any proxy's idle upstream timeout (nginx keeps idle upstream connections 60 s),
# so the proxy, not the app, closes idle connections: no 502 from a reused closed socket.
keepalive = settings.KEEPALIVE_S
max_requests = settings.MAX_REQUESTS
max_requests_jitter = settings.MAX_REQUESTS_JITTER
forwarded_allow_ips = settings.FORWARDED_ALLOW_IPS
# The heartbeat file goes to memory: a slow or read-only disk must not look like a hung worker.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
# gunicorn 27's control socket lives under $HOME, which a read-only root filesystem refuses.
control_socket_disable = True
# The app is imported once in the master and forked: workers start (and restart after
# max_requests) without re-importing, and share the imported code's memory.
preload_app = True
accesslog = None
logconfig_dict = logging_config(settings.LOG_LEVEL)
proc_name = "items-api"


def on_starting(server) -> None:
    logging.getLogger("gunicorn.error").info(
        "worker plan " + json.dumps(plan.as_dict()), extra={"fields": plan.as_dict()}
    )


def pre_fork(server, worker) -> None:
    # What the master preloaded (the app, its imports) lives as long as each worker: moved to
    # the collector's permanent generation, it is no longer traversed by every full
    # collection, nor written to (copied) by it: saturated workers spend less time collecting.
    gc.freeze()


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
