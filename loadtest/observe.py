"""`make loadtest` with Prometheus watching: runs the Locust command given after `--` while a
Prometheus records the service, then draws throughput, latency, errors and worker count over
the run from range queries into the report folder (PNGs, plots.json) and writes report.md.

    python -m loadtest.observe --out DIR --metrics-url URL -- locust -f loadtest/locustfile.py ...
    python -m loadtest.observe --out DIR --prometheus-url URL [--selector S] -- locust ...

Without --prometheus-url a throwaway Prometheus (harness/prometheus.py) scrapes
--metrics-url every second. Plotting never decides the exit code, Locust's does (0, 3 for a
broken SLO, ...): when no Prometheus can record the run, one line says why and there are no
plots.
"""

import argparse
import json
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from harness.prometheus import JOB, PROMETHEUS, Prometheus, throwaway
from loadtest.report import loadtest_markdown
from observability.plots import Panel, Plot, draw, request_panels

# At most this many points per line: a 1 h run at a 1 s scrape still draws quickly.
MAX_POINTS = 600


def panels(selector: str, window: str) -> list[Panel]:
    # Workers from the service's own gauge (per pod, summed); targets up = pods in a cluster.
    return [
        *request_panels(selector, window),
        Panel(
            "replicas",
            "processes",
            {
                "gunicorn workers (app_workers)": f"sum(app_workers{{{selector}}})",
                "scraped targets up": f"count(up{{{selector}}} == 1)",
            },
        ),
    ]


def recorder(args: argparse.Namespace, stack: ExitStack) -> tuple[Prometheus | None, str]:
    """The Prometheus that records the run, or None and why there is none."""
    if args.prometheus_url:
        prometheus = Prometheus(args.prometheus_url, timeout=30)
        try:
            prometheus.query("vector(1)")
        except (httpx.HTTPError, ValueError, KeyError) as error:
            return None, f"PROMETHEUS_URL={args.prometheus_url} did not answer: {error}"
        return prometheus, ""
    if not args.metrics_url:
        return (
            None,
            "no METRICS_URL (the service's metrics listener, e.g. http://HOST:9000/metrics)",
        )
    try:
        return stack.enter_context(
            throwaway(args.metrics_url, binary=args.prometheus, wait_for_scrape=15)
        ), ""
    except (OSError, RuntimeError, TimeoutError, httpx.HTTPError) as error:
        return None, (
            f"the throwaway Prometheus could not scrape METRICS_URL={args.metrics_url}: {error} "
            "(set METRICS_URL to the service's metrics listener, or PROMETHEUS_URL)"
        )


def run_locust(command: list[str]) -> int:
    # Ctrl-C reaches Locust too (same process group): it stops, prints its summary and
    # exits, and the plots of the part that ran are still drawn. Ignored only after the
    # start: Locust would inherit an ignored SIGINT.
    process = subprocess.Popen(command)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def plot(prometheus: Prometheus, args, start: float, end: float, own: bool) -> list[Plot]:
    try:
        interval = prometheus.scrape_interval()
    except httpx.HTTPStatusError:
        interval = 60  # Prometheus' default; Thanos or Mimir do not show their configuration
    # rate() needs two samples in its window; four keep the lines smooth.
    window = f"{4 * interval:g}s"
    step = max(interval, (end - start) / MAX_POINTS)
    where = args.metrics_url if own else f"{args.selector} at {prometheus.url}"
    plots = draw(prometheus, panels(args.selector, window), start, end, args.out,
                 step=step, where=where)  # fmt: skip
    summary = {
        "prometheus": f"throwaway, scraping {args.metrics_url}" if own else prometheus.url,
        "selector": args.selector,
        "start": start,
        "end": end,
        "rate_window": window,
        "step_s": step,
        "points": {p.path.name: p.points for p in plots},
    }
    (args.out / "plots.json").write_text(json.dumps(summary, indent=2) + "\n")
    return plots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the run's report folder")
    parser.add_argument("--metrics-url", default="http://127.0.0.1:9000/metrics")
    parser.add_argument("--prometheus-url", default="", help="an existing Prometheus to ask")
    parser.add_argument("--selector", default=f'job="{JOB}"', help="PromQL label matchers")
    parser.add_argument("--prometheus", type=Path, default=PROMETHEUS, help="server binary")
    parser.add_argument("command", nargs="+", help="the Locust command, after --")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with ExitStack() as stack:
        prometheus, why = recorder(args, stack)
        start = time.time()
        status = run_locust(args.command)
        own = prometheus is not None and not args.prometheus_url
        if own:
            time.sleep(2)  # two more scrapes: the counters as Locust left them
        end = time.time()
        plots = []
        if prometheus is not None:
            try:
                plots = plot(prometheus, args, start, end, own)
            except (httpx.HTTPError, OSError, ValueError, KeyError) as error:
                why = f"asking {prometheus.url} for the run's series failed: {error}"
    empty = [p.path.stem for p in plots if not p.points]
    if empty:
        why = f"no series for {', '.join(empty)} matching {{{args.selector}}}"
    (args.out / "report.md").write_text(
        loadtest_markdown(args.out, args.command, status, start, end, plots, why)
    )
    shown = " ".join(p.path.name for p in plots)
    print(f"loadtest: plots: {shown}" if plots else f"loadtest: no plots: {why}", flush=True)
    if plots and empty:
        print(f"loadtest: {why}", flush=True)
    print(f"loadtest: report: {args.out / 'report.md'}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
