"""The values helm will see, merged the way helm merges them, and what preflight reads from them."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import DeployError, ExitCode
from .release import Release

SECRET_KEYS = ("DATABASE_URL", "JWT_SECRET")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """helm's rule: maps merge key by key, anything else in `override` replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise DeployError(
            ExitCode.PREFLIGHT, f"{what} {path} does not exist", "create it or fix the path"
        ) from None
    except yaml.YAMLError as exc:
        raise DeployError(
            ExitCode.PREFLIGHT, f"{what} {path} is not valid YAML ({exc})", "fix its syntax"
        ) from None
    if not isinstance(data, dict):
        raise DeployError(ExitCode.PREFLIGHT, f"{what} {path} is not a map", "fix its contents")
    return data


def effective_values(
    release: Release, extra_files: Iterable[Path], image_tag: str | None
) -> dict[str, Any]:
    sources = [
        (release.chart / "values.yaml", "chart values"),
        (release.values_file, f"{release.env} values"),
        *((Path(p), "values file") for p in extra_files),
    ]
    values: dict[str, Any] = {}
    for path, what in sources:
        values = merge(values, load_yaml(path, what))
    if image_tag:
        values = merge(values, {"image": {"tag": image_tag}})
    return values


def app_version(release: Release) -> str:
    return str(load_yaml(release.chart / "Chart.yaml", "chart metadata").get("appVersion", ""))


@dataclass(frozen=True)
class Image:
    reference: str
    tag: str
    digest: str


def image_of(values: Mapping[str, Any], app_version: str) -> Image:
    """The image the chart will run: the same rule as its `items-api.image` helper."""
    image = values.get("image") or {}
    repository = image.get("repository", "")
    if image.get("registry"):
        repository = f"{image['registry']}/{repository}"
    tag = str(image.get("tag") or app_version)
    digest = image.get("digest") or ""
    reference = f"{repository}@{digest}" if digest else f"{repository}:{tag}"
    return Image(reference=reference, tag=tag, digest=digest)


def existing_secret(values: Mapping[str, Any]) -> str:
    return (values.get("secrets") or {}).get("existingSecret") or ""


def missing_secret_values(values: Mapping[str, Any]) -> list[str]:
    """Values the chart needs to create its own Secret (no existingSecret given)."""
    secrets = values.get("secrets") or {}
    missing = []
    if not (values.get("postgresql") or {}).get("enabled") and not secrets.get("databaseUrl"):
        missing.append("secrets.databaseUrl")
    if not secrets.get("jwtSecret"):
        missing.append("secrets.jwtSecret")
    return missing
