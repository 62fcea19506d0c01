"""Render the chart's alert rules as a plain Prometheus rules file.

helm/items-api/files/prometheus/items-api.rules.yaml has placeholders the chart fills. Taking
the `spec` of the chart's rendered PrometheusRule, instead of substituting a second time here,
means promtool tests exactly what the chart ships and a plain Prometheus loads the same rules.

    python observability/render_rules.py -o items-api.rules.yaml --namespace shop \\
        -- --set slo.availability.target=0.995

Arguments after `--` go to `helm template` unchanged.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "helm" / "items-api"
DEFAULT_HELM = os.environ.get("HELM", str(REPO / ".tools" / "bin" / "helm"))


def render_rules(
    helm: str = DEFAULT_HELM,
    *,
    release: str = "items-api",
    namespace: str = "items",
    helm_args: list[str] | None = None,
) -> str:
    """The rule groups of the chart's PrometheusRule, as a rules-file YAML document."""
    cmd = [
        helm,
        "template",
        release,
        str(CHART),
        "--namespace",
        namespace,
        "--show-only",
        "templates/prometheusrule.yaml",
        "--set",
        "prometheusRule.enabled=true",
        # The rules do not depend on secrets, but the chart refuses to render without them.
        "--set",
        "secrets.existingSecret=unused-by-rules",
        *(helm_args or []),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603 our argv
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    spec = yaml.safe_load(result.stdout)["spec"]
    return yaml.dump(spec, Dumper=_BlockDumper, sort_keys=False, width=1000)


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line PromQL as `|` blocks, the way the source file has it."""


_BlockDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


class RenderError(Exception):
    """helm refused to render the PrometheusRule; the message is helm's."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    parser.add_argument("--helm", default=DEFAULT_HELM, help="helm binary (env HELM)")
    parser.add_argument("--release", default="items-api", help="release name (job label)")
    parser.add_argument("--namespace", default="items", help="namespace label of the series")
    parser.add_argument("helm_args", nargs="*", help="extra `helm template` arguments")
    args = parser.parse_args(argv)
    try:
        rules = render_rules(
            args.helm, release=args.release, namespace=args.namespace, helm_args=args.helm_args
        )
    except RenderError as exc:
        print(f"render_rules: {exc}", file=sys.stderr)
        return 1
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(rules)
    else:
        sys.stdout.write(rules)
    return 0


if __name__ == "__main__":
    sys.exit(main())
