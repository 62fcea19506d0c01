"""`helm template` of the chart, as operators run it, parsed into Kubernetes objects."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "items-api"
HELM = REPO / ".tools" / "bin" / "helm"
ENV_VALUES = REPO / "deploy" / "values"
RELEASE = "items-api"
NAMESPACE = "items-api-test"
# What `helm install --set` would add to the defaults, which refuse to render without secrets.
SECRETS = (
    "--set", "secrets.databaseUrl=postgresql+asyncpg://items:pw@db:5432/items",
    "--set", "secrets.jwtSecret=0123456789abcdef0123456789abcdef",
)  # fmt: skip


def helm(*args: str) -> subprocess.CompletedProcess:
    if not HELM.exists():
        pytest.fail(f"{HELM} is missing: run `make {HELM.relative_to(REPO)}`")
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, check=False)


def template(*args: str) -> subprocess.CompletedProcess:
    return helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args)


def render(*args: str) -> list[dict]:
    """Every object the chart renders (hooks and test pods included) for these helm arguments."""
    result = template(*args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_error(*args: str) -> str:
    """helm's complaint for arguments that must not render."""
    result = template(*args)
    assert result.returncode != 0, f"rendered although it should not have:\n{result.stdout[:2000]}"
    return result.stderr


def env_values(env: str) -> tuple[str, str]:
    return ("-f", str(ENV_VALUES / f"{env}.yaml"))


def one(docs: list[dict], kind: str, name: str = RELEASE) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    names = [d["metadata"]["name"] for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind} {name}, got {names}"
    return found[0]


def kinds(docs: list[dict]) -> set[str]:
    return {d["kind"] for d in docs}


def pod_spec(obj: dict) -> dict:
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def app_container(deployment: dict) -> dict:
    return next(c for c in pod_spec(deployment)["containers"] if c["name"] == "items-api")


def notes(*args: str) -> str:
    """NOTES.txt as `helm install` would print it, without the API server helm insists on:
    a copy of the chart renders it through `tpl` as a value of a plain template."""
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp) / CHART.name
        shutil.copytree(CHART, chart, symlinks=False)
        shutil.copy(chart / "templates" / "NOTES.txt", chart / "files" / "notes.txt")
        (chart / "templates" / "notes.yaml").write_text(
            'text: {{ tpl (.Files.Get "files/notes.txt") . | quote }}\n'
        )
        result = helm("template", RELEASE, str(chart), "--namespace", NAMESPACE,
                      "--show-only", "templates/notes.yaml", *args)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["text"]
