"""PNG plots of a run drawn from Prometheus range queries: the e2e report and `make loadtest`
draw theirs here, from the same request queries."""

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from harness.prometheus import Prometheus


@dataclass(frozen=True)
class Panel:
    name: str
    unit: str
    # Legend label -> PromQL. A label may name the series' labels, e.g. "{code}".
    queries: dict[str, str]


@dataclass(frozen=True)
class Plot:
    path: Path
    # Legend label -> finite points drawn; an empty dict means no query returned a series.
    points: dict[str, int]


def request_panels(selector: str, window: str) -> list[Panel]:
    """Throughput by status class, latency quantiles and error rates of the service's
    request metrics matching `selector`, each a rate over `window`."""

    def rate(metric: str, extra: str = "") -> str:
        return f"rate({metric}{{{selector}{extra}}}[{window}])"

    return [
        Panel(
            "throughput",
            "requests/s",
            {
                "{code}": "sum by (code) (label_replace("
                f'{rate("http_requests_total")}, "code", "${{1}}xx", "status", "(.).*"))'
            },
        ),
        Panel(
            "latency",
            "seconds",
            {
                f"p{q}": f"histogram_quantile(0.{q}, sum by (le) "
                f"({rate('http_request_duration_seconds_bucket')}))"
                for q in (50, 95, 99)
            },
        ),
        Panel(
            "errors",
            "responses/s",
            {
                f"{c}xx/s": f"sum({rate('http_requests_total', status)}) or vector(0)"
                for c, status in ((5, ', status=~"5.."'), (4, ', status=~"4.."'))
            },
        ),
    ]


def draw(
    prometheus: Prometheus,
    panels: list[Panel],
    start: float,
    end: float,
    directory: Path,
    *,
    prefix: str = "",
    step: float = 5,
    where: str = "",
    spans: list[tuple[str, float, float]] = (),
) -> list[Plot]:
    """One PNG per panel, `<prefix><name>.png` in `directory`, over [start, end] with the
    x axis in seconds since start; `spans` (name, from, to) are shaded and labelled."""
    plots = []
    for panel in panels:
        fig, ax = plt.subplots(figsize=(11, 3.2))
        points = {}
        for label, expr in panel.queries.items():
            for series in prometheus.query_range(expr, start, end, step=step):
                name = label.format_map(series["metric"])
                values = [(float(t) - start, float(v)) for t, v in series["values"]]
                points[name] = sum(math.isfinite(v) for _, v in values)
                ax.plot(*zip(*values, strict=True), label=name, linewidth=1.2)
        for i, (span, begin, stop) in enumerate(spans):
            ax.axvspan(begin - start, stop - start, alpha=0.08 + 0.06 * (i % 2))
            at = (begin - start, 1)
            ax.annotate(span.split(" ")[0], at, xycoords=("data", "axes fraction"), fontsize=7,
                        va="top")  # fmt: skip
        title = f"{panel.name} ({where})" if where else panel.name
        ax.set(title=title, xlabel="seconds since the run started", ylabel=panel.unit)
        # Every panel on the same time axis; y from zero (rates and counts only), with room
        # above a flat line such as a constant worker count.
        ax.set_xlim(0, end - start)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.15)
        if points:
            ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        path = directory / f"{prefix}{panel.name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        plots.append(Plot(path, points))
    return plots
