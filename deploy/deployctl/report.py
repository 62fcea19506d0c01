"""What the operator reads at the end: the summary of a healthy release, or why it is not."""

from collections.abc import Iterable

from .release import Release
from .verify import Health, PodReport


def format_summary(
    verb: str,
    release: Release,
    context: str,
    revision: int | str,
    health: Health,
    seconds: float,
) -> str:
    pods = f"{health.ready}/{len(health.pods)} ready"
    if health.pods:
        pods += f" ({', '.join(health.pods)})"
    rows = [
        ("revision", str(revision)),
        ("image", ", ".join(health.images) or "-"),
        ("pods", pods),
        ("readyz", health.readyz or "-"),
        ("took", f"{seconds:.1f}s"),
    ]
    head = f"{verb} {release.name} in namespace {release.namespace} (context {context})"
    return "\n".join([head, *(f"  {key:<9}{value}" for key, value in rows)])


def format_problems(problems: Iterable[str]) -> str:
    return "\n".join(f"  - {problem}" for problem in problems)


def format_pod_reports(reports: Iterable[PodReport]) -> str:
    blocks = []
    for report in reports:
        lines = [f"pod {report.name}: {report.problem}"]
        if report.events:
            lines.append("  events:")
            lines += [f"    {event}" for event in report.events]
        for container, log in report.logs.items():
            lines.append(f"  last log lines of {container}:")
            lines += [f"    {line}" for line in log.rstrip().splitlines()] or ["    (empty)"]
        blocks.append("\n".join(lines))
    return "\n".join(blocks) if blocks else "no failing pod was seen (see helm's error above)"
