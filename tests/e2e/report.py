"""The e2e report: each scenario's figures (JSON and Markdown) and PNG plots of throughput,
latency, errors and ready replicas over the run, drawn from the in-cluster Prometheus with
each scenario's span marked."""

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness.prometheus import Prometheus
from observability.plots import Panel, draw, request_panels

from .cluster import NAMESPACE, ROOT

REPORTS = ROOT / ".local" / "reports"
SELECT = f'namespace="{NAMESPACE}", job="items-api"'
PANELS = [
    *request_panels(SELECT, "30s"),
    Panel(
        "replicas",
        "pods",
        {
            "ready (scraped)": f'count(up{{{SELECT}, ready="true"}} == 1)',
            "scraped": f"count(up{{{SELECT}}} == 1)",
        },
    ),
]


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S")


@dataclass
class Report:
    started: float = field(default_factory=time.time)
    scenarios: dict[str, dict] = field(default_factory=dict)
    spans: list[tuple[str, float, float]] = field(default_factory=list)
    prometheus: Prometheus | None = None

    def record(self, name: str, started: float, **figures) -> None:
        self.scenarios[name] = {"started": _clock(started), **figures}
        self.spans.append((name, started, time.time()))

    def write(self) -> list[Path]:
        REPORTS.mkdir(parents=True, exist_ok=True)
        finished = time.time()
        data = {
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(),
            "seconds": round(finished - self.started),
            "scenarios": self.scenarios,
        }
        written = [REPORTS / "e2e.json", REPORTS / "e2e.md"]
        written[0].write_text(json.dumps(data, indent=2) + "\n")
        plots = self._plots(self.prometheus, finished) if self.prometheus else []
        written[1].write_text(self._markdown(data, plots))
        return written + plots

    def _markdown(self, data: dict, plots: list[Path]) -> str:
        lines = [
            "# items-api e2e on the project's cluster",
            "",
            f"Started {data['started']}, {data['seconds']} s in all. "
            "Reproduce: `make e2e` (figures below are this run's).",
            "",
        ]
        for name, figures in self.scenarios.items():
            lines += [f"## {name}", ""]
            lines += [f"- **{key}**: {_markdown_value(value)}" for key, value in figures.items()]
            lines.append("")
        lines += [f"![{p.stem}]({p.name})" for p in plots]
        return "\n".join(lines) + "\n"

    def _plots(self, prometheus: Prometheus, end: float) -> list[Path]:
        plots = draw(prometheus, PANELS, self.started, end, REPORTS, prefix="e2e-",
                     where=NAMESPACE, spans=self.spans)  # fmt: skip
        return [plot.path for plot in plots]


def _markdown_value(value) -> str:
    if isinstance(value, list):
        return "".join(f"\n  - `{item}`" for item in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    return f"{value}"
