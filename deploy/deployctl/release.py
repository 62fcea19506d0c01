"""Where a release lives: the one place that maps an environment to release name, namespace,
chart, values file and the safety policy that goes with it."""

from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# Release name and namespaces, shared with Terraform (terraform/environments/*).
ENVIRONMENTS_FILE = REPO_ROOT / "deploy" / "environments.yaml"
_FACTS = yaml.safe_load(ENVIRONMENTS_FILE.read_text())
RELEASE_NAME = _FACTS["release"]
CHART_DIR = REPO_ROOT / "helm" / "items-api"
VALUES_DIR = REPO_ROOT / "deploy" / "values"
DEFAULT_HELM = REPO_ROOT / ".tools" / "bin" / "helm"
DEFAULT_COSIGN = REPO_ROOT / ".tools" / "bin" / "cosign"
# Where `make tools` installs helm-diff as a helm plugin.
HELM_PLUGINS = REPO_ROOT / ".tools" / "helm-plugins"


@dataclass(frozen=True)
class Policy:
    # Shared environments get their namespace (quotas, RBAC, labels) from the platform side;
    # creating it on the fly there would hide a wrong context.
    create_namespace: bool
    # A tag like `latest` makes rollbacks meaningless: the old revision runs the new image.
    allow_latest_tag: bool = True
    # Production never deploys to whatever the kubeconfig's current-context happens to be.
    require_explicit_context: bool = False
    # Removing production is never one mistyped ENV away.
    confirm_uninstall: bool = False
    # Only a digest that was built, scanned and signed, verified before the cluster is touched.
    require_signed_digest: bool = False


POLICIES = {
    "dev": Policy(create_namespace=True),
    "e2e": Policy(create_namespace=True),
    "staging": Policy(create_namespace=False),
    "production": Policy(
        create_namespace=False,
        allow_latest_tag=False,
        require_explicit_context=True,
        confirm_uninstall=True,
        require_signed_digest=True,
    ),
}
ENVIRONMENTS = tuple(POLICIES)
if set(ENVIRONMENTS) != set(_FACTS["environments"]):
    raise RuntimeError(
        f"{ENVIRONMENTS_FILE} lists {sorted(_FACTS['environments'])}, "
        f"the deploy policies {sorted(ENVIRONMENTS)}: give both the same environments"
    )


@dataclass(frozen=True)
class Release:
    env: str
    name: str
    namespace: str
    # The chart folder, or its published artifact (oci://REGISTRY/charts/NAME) at chart_version.
    chart: Path | str
    values_file: Path
    policy: Policy
    chart_version: str | None = None

    @classmethod
    def for_env(cls, env: str, chart: str | None = None, chart_version: str | None = None):
        return cls(
            env=env,
            name=RELEASE_NAME,
            namespace=_FACTS["environments"][env]["namespace"],
            chart=chart or CHART_DIR,
            values_file=VALUES_DIR / f"{env}.yaml",
            policy=POLICIES[env],
            chart_version=chart_version,
        )

    @property
    def chart_args(self) -> list[str]:
        """The chart as helm's install, template and diff commands take it."""
        version = ["--version", self.chart_version] if self.chart_version else []
        return [str(self.chart), *version]

    @property
    def selector(self) -> str:
        """The label selector of every object helm created for this release (chart labels)."""
        return f"app.kubernetes.io/instance={self.name}"
