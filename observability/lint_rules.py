"""Check what promtool does not: every alert is actionable by the person it wakes up.

Each alert needs a `severity` label the Alertmanager routes on, a `summary`, a `description`
quoting `$value`, and a `runbook_url` whose anchor is a section of observability/runbook.md.
Problems are printed one per line, each starting with the alert's name; exit 1 if any.

    python observability/lint_rules.py .local/observability/items-api.rules.yaml
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

RUNBOOK = Path(__file__).resolve().parent / "runbook.md"
SEVERITIES = {"critical", "warning", "info"}


def runbook_anchors(runbook: str) -> set[str]:
    """GitHub's anchors for the runbook's headings: lower case, punctuation dropped."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", runbook, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def alert_problems(rules: dict, anchors: set[str]) -> list[str]:
    """One message per missing or malformed piece, prefixed with the alert's name."""
    problems = []
    for group in rules.get("groups") or []:
        for rule in group.get("rules") or []:
            if "alert" not in rule:
                continue
            name = rule["alert"]
            labels = rule.get("labels") or {}
            annotations = rule.get("annotations") or {}
            if labels.get("severity") not in SEVERITIES:
                problems.append(f"{name}: label severity must be one of {sorted(SEVERITIES)}")
            for key in ("summary", "description", "runbook_url"):
                if not annotations.get(key):
                    problems.append(f"{name}: annotation {key} is missing")
            if annotations.get("description") and "$value" not in annotations["description"]:
                problems.append(f"{name}: description does not quote {{{{ $value }}}}")
            url = annotations.get("runbook_url", "")
            if url:
                anchor = url.partition("#")[2]
                if anchor not in anchors:
                    problems.append(f"{name}: runbook_url {url} matches no heading of {RUNBOOK}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rules", type=Path, help="a rendered rules file")
    args = parser.parse_args(argv)
    problems = alert_problems(
        yaml.safe_load(args.rules.read_text()), runbook_anchors(RUNBOOK.read_text())
    )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
