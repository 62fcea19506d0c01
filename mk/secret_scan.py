"""Fail when detect-secrets finds anything the committed baseline has not marked a false positive.

`detect-secrets scan --baseline` re-scans the tracked files with the baseline's own plugins
and filters, keeps each known finding's audit label and adds new findings unlabelled.
Line numbers move as files change, so findings are matched by file, type and secret hash.

    python -m mk.secret_scan            # the lint gate (make lint-secrets)
    python -m mk.secret_scan --update   # refresh .secrets.baseline, then audit it
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / ".secrets.baseline"


def rescan(baseline: Path) -> dict:
    detect_secrets = Path(sys.executable).parent / "detect-secrets"
    subprocess.run([str(detect_secrets), "scan", "--baseline", str(baseline)], cwd=REPO, check=True)
    return json.loads(baseline.read_text())


def unaudited(results: dict) -> list[str]:
    """Findings not labelled false positives, as file:line: type."""
    return [
        f"{path}:{finding['line_number']}: {finding['type']}"
        for path, findings in sorted(results.items())
        for finding in findings
        if finding.get("is_secret") is not False
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite .secrets.baseline in place")
    args = parser.parse_args(argv)
    if args.update:
        found = unaudited(rescan(BASELINE)["results"])
        print(f"{len(found)} unaudited; label them: detect-secrets audit {BASELINE.name}")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / BASELINE.name
        shutil.copy(BASELINE, copy)
        found = unaudited(rescan(copy)["results"])
    if found:
        print("possible secrets not in .secrets.baseline as false positives:", *found, sep="\n  ")
        print("a real secret: remove it and rotate it; a false positive: add an inline")
        print("`# pragma: allowlist secret` with the reason, or run")
        print("`python -m mk.secret_scan --update` and label it in `detect-secrets audit`")
        return 1
    print("lint-secrets: no unaudited findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
