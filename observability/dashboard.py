"""The items-api Grafana dashboard, as code.

Rendered to helm/items-api/files/grafana/items-api.json (`make dashboard`), which the chart
ships as a ConfigMap for Grafana's dashboard sidecar. `--check FILE` fails when FILE is not
what this module renders, so the JSON is never edited by hand.

Rows: the SLOs (burn rates, from the chart's recording rules), traffic per route (rate,
errors, latency), saturation (DB pool, workers) and the pods (targets, restarts, versions).
"""

import argparse
import difflib
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders.common import (
    GraphThresholdsStyleConfig,
    ReduceDataOptions,
    VizLegendOptions,
    VizTooltipOptions,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    BigValueGraphMode,
    GraphTresholdsStyleMode,
    LegendDisplayMode,
    LegendPlacement,
    SortOrder,
    TooltipDisplayMode,
)
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
SERVICE = 'namespace="$namespace", job="$job"'
# kube-state-metrics labels series with the pod's namespace and container, not our job.
CONTAINER = 'namespace="$namespace", container="items-api"'
# The burn rates at which the SLO alerts page (14.4, 6) and open a ticket (3, 1).
BURN_THRESHOLDS = [(None, "green"), (1, "yellow"), (6, "orange"), (14.4, "red")]


def query(expr: str, legend: str = "", ref: str = "A") -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend or "__auto").ref_id(ref)


def thresholds(steps: list[tuple[float | None, str]]) -> gd.ThresholdsConfig:
    return (
        gd.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=v, color=c) for v, c in steps])
    )


def graph(title: str, unit: str, *targets: prometheus.Dataquery, width: int = 12):
    panel = (
        timeseries.Panel()
        .title(title)
        .unit(unit)
        .datasource(DATASOURCE)
        .legend(
            VizLegendOptions()
            .display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(VizTooltipOptions().mode(TooltipDisplayMode.MULTI).sort(SortOrder.DESCENDING))
    )
    for ref, target in zip("ABCDEFGH", targets, strict=False):
        panel = panel.with_target(target.ref_id(ref))
    return panel.span(width).height(8)


def burn_rate_graph(slo: str, recorded: str) -> timeseries.Panel:
    """Burn rate per alert window: the recorded ratio over the error budget (1 - target)."""
    objective = f'namespace_job:items_api_slo_objective:ratio{{{SERVICE}, slo="{slo}"}}'
    targets = [
        query(
            f"{recorded}:ratio_rate{window}{{{SERVICE}}}\n/ on (namespace, job) (1 - {objective})",
            window,
        )
        for window in ("5m", "1h", "6h", "3d")
    ]
    return (
        graph(f"{slo.capitalize()} error budget burn rate", "x", *targets)
        .description(
            f"How many times faster than sustainable the {slo} error budget is being spent, "
            "over the windows the SLO alerts use: paging at 14.4 (1h) and 6 (6h), "
            "a ticket at 3 (1d) and 1 (3d)."
        )
        .thresholds(thresholds(BURN_THRESHOLDS))
        .thresholds_style(GraphThresholdsStyleConfig().mode(GraphTresholdsStyleMode.DASHED))
    )


def sli_stat(title: str, expr: str, description: str) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit("percentunit")
        .decimals(3)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]))
        .graph_mode(BigValueGraphMode.NONE)
        .with_target(query(expr, title))
        .span(6)
        .height(4)
    )


def slo_row() -> list:
    return [
        gd.Row("Service level objectives"),
        sli_stat(
            "Availability, last 3 days",
            f"1 - namespace_job:items_api_http_errors:ratio_rate3d{{{SERVICE}}}",
            "Share of requests not answered with a 5xx (SLO target: slo.availability.target).",
        ),
        sli_stat(
            "Fast enough, last 3 days",
            f"1 - namespace_job:items_api_http_slow:ratio_rate3d{{{SERVICE}}}",
            "Share of requests within slo.latency.thresholdSeconds (target: slo.latency.target).",
        ),
        sli_stat(
            "Availability target",
            f'namespace_job:items_api_slo_objective:ratio{{{SERVICE}, slo="availability"}}',
            "The chart's slo.availability.target, as the recording rules see it.",
        ),
        sli_stat(
            "Latency target",
            f'namespace_job:items_api_slo_objective:ratio{{{SERVICE}, slo="latency"}}',
            "The chart's slo.latency.target, as the recording rules see it.",
        ),
        burn_rate_graph("availability", "namespace_job:items_api_http_errors"),
        burn_rate_graph("latency", "namespace_job:items_api_http_slow"),
    ]


def traffic_row() -> list:
    rate = f"rate(http_requests_total{{{SERVICE}}}[$__rate_interval])"
    errors = f'rate(http_requests_total{{{SERVICE}, status=~"5.."}}[$__rate_interval])'
    buckets = f"rate(http_request_duration_seconds_bucket{{{SERVICE}}}[$__rate_interval])"
    return [
        gd.Row("Traffic per route"),
        graph(
            "Requests per second by route",
            "reqps",
            query(f"sum by (handler, method) ({rate})", "{{method}} {{handler}}"),
        ),
        graph(
            "Responses per second by status",
            "reqps",
            query(f"sum by (status) ({rate})", "{{status}}"),
        ),
        graph(
            "5xx ratio by route",
            "percentunit",
            query(
                f"sum by (handler, method) ({errors})\n/ sum by (handler, method) ({rate})",
                "{{method}} {{handler}}",
            ),
        ),
        graph(
            "Latency by route (p50 / p95 / p99)",
            "s",
            *[
                query(
                    f"histogram_quantile({q}, sum by (handler, le) ({buckets}))",
                    f"p{round(q * 100)} {{{{handler}}}}",
                )
                for q in (0.5, 0.95, 0.99)
            ],
        ),
    ]


def saturation_row() -> list:
    def per_pod(metric: str, legend: str) -> prometheus.Dataquery:
        return query(f"sum by (pod) ({metric}{{{SERVICE}}})", f"{legend} {{{{pod}}}}")

    return [
        gd.Row("Saturation"),
        graph(
            "Database pool per pod",
            "short",
            per_pod("db_pool_size", "size"),
            per_pod("db_pool_checked_out", "checked out"),
            per_pod("db_pool_overflow", "overflow"),
            per_pod("db_pool_waiting", "waiting"),
            width=8,
        ),
        graph(
            "Database pool timeouts per second",
            "short",
            query(
                f"sum by (pod) (rate(db_pool_timeouts_total{{{SERVICE}}}[$__rate_interval]))",
                "{{pod}}",
            ),
            width=8,
        ),
        graph(
            "Requests in flight vs workers",
            "short",
            per_pod("http_requests_inprogress", "in flight"),
            query(f"max by (pod) (app_workers{{{SERVICE}}})", "workers {{pod}}"),
            width=8,
        ),
    ]


def pods_row() -> list:
    return [
        gd.Row("Pods"),
        graph(
            "Targets up",
            "short",
            query(f"sum(up{{{SERVICE}}})", "up"),
            query(f"count(up{{{SERVICE}}})", "discovered"),
            width=8,
        ),
        graph(
            "Container restarts",
            "short",
            query(
                "sum by (pod) (increase(kube_pod_container_status_restarts_total"
                f"{{{CONTAINER}}}[$__rate_interval]))",
                "{{pod}}",
            ),
            width=8,
        ),
        table.Panel()
        .show_header(True)
        .title("Running versions")
        .datasource(DATASOURCE)
        .with_target(
            query(f"max by (pod, version, git_sha) (app_build_info{{{SERVICE}}})", "__auto")
            .instant()
            .format(PromQueryFormat.TABLE)
        )
        .span(8)
        .height(8),
        table.Panel()
        .show_header(True)
        .title("Firing and pending alerts")
        .datasource(DATASOURCE)
        .with_target(
            query('ALERTS{namespace="$namespace", alertname=~"ItemsApi.*"}', "__auto")
            .instant()
            .format(PromQueryFormat.TABLE)
        )
        .span(24)
        .height(6),
    ]


def variables() -> list:
    return [
        gd.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        gd.QueryVariable("namespace")
        .label("Namespace")
        .datasource(DATASOURCE)
        .query("label_values(app_build_info, namespace)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED),
        gd.QueryVariable("job")
        .label("Service")
        .datasource(DATASOURCE)
        .query('label_values(app_build_info{namespace="$namespace"}, job)')
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED),
    ]


def build() -> gd.Dashboard:
    board = (
        gd.Dashboard("items-api")
        .uid("items-api")
        .description("SLOs, traffic, saturation and pods of the items-api service.")
        .tags(["items-api", "generated"])
        .refresh("30s")
        .time("now-3h", "now")
        .timezone("browser")
    )
    for variable in variables():
        board = board.with_variable(variable)
    for item in slo_row() + traffic_row() + saturation_row() + pods_row():
        board = board.with_row(item) if isinstance(item, gd.Row) else board.with_panel(item)
    return board


def render() -> str:
    return JSONEncoder(sort_keys=True, indent=2).encode(build().build()) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("-o", "--output", type=Path, help="write the dashboard JSON here")
    mode.add_argument("--check", type=Path, help="fail if this file is not the rendered JSON")
    args = parser.parse_args(argv)
    rendered = render()
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(rendered)
        return 0
    current = args.check.read_text() if args.check.exists() else ""
    if current == rendered:
        return 0
    sys.stderr.writelines(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            rendered.splitlines(keepends=True),
            str(args.check),
            "observability/dashboard.py",
            n=1,
        )
    )
    print(f"{args.check} is stale: run `make dashboard` and commit it", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
