"""Reports of the scaling study, the benchmark and `make loadtest`: JSON, Markdown tables,
matplotlib charts."""

import csv
import json
import os
import shlex
from datetime import UTC, datetime
from pathlib import Path


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _header(title: str, results: dict) -> list[str]:
    """Title, when and how the run was made, the machine's load around it, and its notes."""
    machine = results["machine"]
    return [
        f"# {title}",
        "",
        f"Generated {results['generated_at']} by `{results['command']}` in "
        f"{results.get('duration_s', '?')} s on {machine['cpus']} CPUs; load average "
        f"{machine['load_average_before']} before, {machine.get('load_average_after')} after.",
        "",
        *[f"- {note}" for note in results["notes"]],
        "",
    ]


def scaling_summary(results: dict) -> list[str]:
    """Saturation req/s of every model and shape, per limit, and p95 at the fixed rate."""
    workloads = list(results["settings"]["workloads"])
    lines = ["## Summary", ""]
    for limit in results["limits"]:
        rates = ", ".join(f"{name} {rate:g}/s" for name, rate in limit["fixed_rates"].items())
        lines += [
            f"CPU limit {limit['cpus']}: saturation req/s, and p95 ms at the fixed rate ({rates}).",
            "",
            *_table(
                ["model", *workloads, "RSS MB"],
                [
                    [
                        model["model"],
                        *(
                            f"{model['saturation'][name]['rps']:.0f} "
                            f"({_ms(model['fixed_rate'][name]['latency_ms']['p95'])} ms)"
                            for name in workloads
                        ),
                        f"{model['memory']['rss_mb_total']:.0f}",
                    ]
                    for model in limit["models"]
                ],
            ),
            "",
        ]
    return lines


def scaling_markdown(results: dict) -> str:
    lines = [*_header("Worker-scaling study", results), *scaling_summary(results)]
    workloads = list(results["settings"]["workloads"])
    for limit in results["limits"]:
        lines += [
            f"## CPU limit {limit['cpus']}",
            "",
            f"The service's formula inside this budget: {limit['formula']['workers']} workers "
            f"({limit['formula']['source']}).",
            "",
        ]
        for name in workloads:
            rate = limit["fixed_rates"][name]
            lines += [
                f"### {name} (`{results['settings']['workloads'][name]}`)",
                "",
                *_table(
                    [
                        "model",
                        "saturation req/s",
                        f"p50 ms @{rate:g}/s",
                        f"p95 ms @{rate:g}/s",
                        f"p99 ms @{rate:g}/s",
                        "errors",
                        "throttled s (sat / fixed)",
                        "RSS MB total",
                        "PSS MB total",
                    ],
                    [
                        [
                            model["model"],
                            f"{model['saturation'][name]['rps']:.0f}",
                            *(
                                _ms(model["fixed_rate"][name]["latency_ms"][p])
                                for p in ("p50", "p95", "p99")
                            ),
                            model["saturation"][name]["errors"]
                            + model["fixed_rate"][name]["errors"],
                            f"{model['saturation'][name]['throttled_s']} / "
                            f"{model['fixed_rate'][name]['throttled_s']}",
                            f"{model['memory']['rss_mb_total']:.0f}",
                            f"{model['memory']['pss_mb_total']:.0f}",
                        ]
                        for model in limit["models"]
                    ],
                ),
                "",
            ]
    return "\n".join(lines)


def _slot(model: dict) -> tuple[bool, int]:
    """Where a model sits on the chart's x axis: gunicorn by worker count, uvicorn last."""
    return model["workers"] is None, model["workers"] or 0


def scaling_plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = list(results["settings"]["workloads"])
    figure, axes = plt.subplots(
        2, len(workloads), figsize=(4.2 * len(workloads), 7.5), squeeze=False
    )
    width = 0.8 / len(results["limits"])
    # Models differ per limit (2 x limit + 1 ...): one slot per model across all limits.
    slots = sorted({_slot(m) for limit in results["limits"] for m in limit["models"]})
    labels = [("uvicorn 1" if plain else f"gunicorn {workers}") for plain, workers in slots]
    for column, name in enumerate(workloads):
        for index, limit in enumerate(results["limits"]):
            models = limit["models"]
            positions = [slots.index(_slot(m)) + index * width for m in models]
            rps = [m["saturation"][name]["rps"] for m in models]
            p95 = [m["fixed_rate"][name]["latency_ms"]["p95"] for m in models]
            tag = f"{limit['cpus']} CPU"
            axes[0][column].bar(positions, rps, width, label=tag)
            axes[1][column].bar(
                positions, p95, width, label=f"{tag} @{limit['fixed_rates'][name]:g}/s"
            )
        for row in (0, 1):
            axes[row][column].set_xticks(
                [x + width * (len(results["limits"]) - 1) / 2 for x in range(len(labels))],
                labels,
                rotation=30,
                ha="right",
                fontsize=8,
            )
        axes[0][column].set_title(f"{name}: saturation req/s")
        axes[1][column].set_title(f"{name}: p95 ms at a fixed rate")
        for row in (0, 1):
            axes[row][column].legend(fontsize=7)
    figure.suptitle(
        f"items-api worker scaling ({results['budget']}), {results['generated_at']}", fontsize=10
    )
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def bench_markdown(results: dict) -> str:
    lines = [
        *_header("Benchmark", results),
        "## Saturation (wrk)",
        "",
        *_table(
            [
                "case",
                "what",
                "req/s",
                "rounds",
                "CPU us/req",
                "p50 ms",
                "p99 ms",
                "errors",
                "sessions",
            ],
            [
                [
                    name,
                    case["what"],
                    f"{case['rps']:.0f}",
                    " / ".join(str(rps) for rps in case.get("rounds_rps", ())) or "-",
                    case.get("cpu_us_per_request", "-"),
                    _ms(case["latency_ms"]["p50"]),
                    _ms(case["latency_ms"]["p99"]),
                    case["errors"],
                    case.get("sessions_opened", "-"),
                ]
                for name, case in results["cases"].items()
            ],
        ),
        "",
        "CPU us/req: the server's own CPU time (all its processes) over the run per request "
        "answered. rounds: req/s of each round of an alternated case, whose median round "
        "the row shows. sessions: PostgreSQL sessions opened during the run.",
        *_database_sections(results),
        "",
        "## Ratios",
        "",
        *_table(
            ["ratio", "value", "target", "met"],
            [
                [name, f"{ratio['value']:.2f}", f">= {ratio['target']}", _yes(ratio["met"])]
                for name, ratio in results["ratio_targets"].items()
            ],
        ),
        "",
        "## Scenario (Locust)",
        "",
        _scenario_line(results["scenario"]),
        "",
        "## Memory and start-up",
        "",
        *_table(
            ["figure", "value", "target", "met"],
            [
                [name, figure["value"], figure["target"], _yes(figure["met"])]
                for name, figure in results["figures"].items()
            ],
        ),
        "",
    ]
    return "\n".join(lines)


def _database_sections(results: dict) -> list[str]:
    if "round_trips" not in results:
        return []
    scaling = results["list_scaling"]
    small, large = (f"{rows:,}" for rows in scaling["rows"])
    lists = [name for name in scaling if name.startswith("list_")]
    return [
        "",
        "## Round trips to PostgreSQL per request",
        "",
        *_table(
            ["request", "round trips", "statements"],
            [
                [kind, count["round_trips"], "; ".join(count["statements"])]
                for kind, count in results["round_trips"].items()
            ],
        ),
        "",
        f"## Lists at {small} and {large} rows",
        "",
        *_table(
            [
                "case",
                f"p50 ms {small}",
                f"p50 ms {large}",
                "ratio",
                "target",
                "met",
                f"p99 ms {large}",
                f"req/s {small}",
                f"req/s {large}",
            ],
            [
                [
                    name,
                    _ms(row["p50_ms"][0]),
                    _ms(row["p50_ms"][1]),
                    f"{row['p50_ratio']:.2f}",
                    f"<= {scaling['target']}",
                    _yes(row["met"]),
                    _ms(row["p99_ms"][1]),
                    row["rps"][0],
                    row["rps"][1],
                ]
                for name in lists
                for row in [scaling[name]]
            ],
        ),
        "",
        "## Tails of GET /api/v1/items/{id} by concurrency (one worker)",
        "",
        *_read_table("connections", results["tails"]["read"], "p99/p50", "p99_over_p50"),
        "",
        "## Tails of POST /api/v1/items by concurrency (one worker)",
        "",
        *_read_table("connections", results["tails"]["create"], "p99/p50", "p99_over_p50"),
        "",
        "## GET /api/v1/items/{id} by pool size (one worker, no overflow)",
        "",
        *_read_table("DB_POOL_SIZE", results["pool_sizes"], "sessions", "sessions_opened"),
    ]


def _read_table(key: str, runs: dict, last: str, last_field: str) -> list[str]:
    return _table(
        [key, "req/s", "CPU us/req", "p50 ms", "p99 ms", last],
        [
            [name, run["rps"], run["cpu_us_per_request"], _ms(run["p50_ms"]),
             _ms(run["p99_ms"]), run[last_field]]
            for name, run in runs.items()
        ],
    )  # fmt: skip


def _scenario_line(scenario: dict) -> str:
    latency = scenario["latency_ms"]
    return (
        f"The whole mix at {scenario['rate_target']:g} req/s ({scenario['users']} users), "
        f"straight to our service: {scenario['requests']} requests, {scenario['errors']} "
        f"errors, p50 {_ms(latency['p50'])} ms, p95 {_ms(latency['p95'])} ms, "
        f"p99 {_ms(latency['p99'])} ms."
    )


def _yes(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[met]


def loadtest_markdown(
    out: Path, command: list[str], status: int, start: float, end: float, plots: list, why: str
) -> str:
    """report.md of one `make loadtest` run: Locust's figures per request and the plots
    (observability.plots.Plot), or why there are none."""
    verdict = {0: "kept", 3: "**broken** (exit 3)"}.get(status, f"Locust failed (exit {status})")
    clock = [datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") for t in (start, end)]
    lines = [
        f"# Load test {out.name}",
        "",
        f"{clock[0]} to {clock[1]} ({end - start:.0f} s); SLO gate {verdict}. Run by",
        "",
        "```sh",
        shlex.join(command),
        "```",
        "",
    ]
    stats = out / "stats_stats.csv"
    if stats.is_file():
        with stats.open() as rows:
            lines += _table(
                ["request", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"],
                [
                    [row["Name"], row["Request Count"], row["Failure Count"],
                     f"{float(row['Requests/s']):.1f}", row["50%"], row["95%"], row["99%"]]
                    for row in csv.DictReader(rows)
                ],
            )  # fmt: skip
        lines.append("")
    if why:
        lines += [f"{'Plots' if plots else 'No plots'}: {why}.", ""]
    lines += [f"![{plot.path.stem}]({plot.path.name})" for plot in plots]
    return "\n".join(lines) + "\n"
