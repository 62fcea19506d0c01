"""What the chart will run, read from helm's own render: helm merges the values and the chart's
helpers build the image reference and name the Secret, so deployctl re-implements neither."""

from dataclasses import dataclass
from typing import Any

import yaml

SECRET_KEYS = ("DATABASE_URL", "JWT_SECRET")


@dataclass(frozen=True)
class Image:
    reference: str
    tag: str
    digest: str


def parse_image(reference: str) -> Image:
    """`repo[:tag]` or `repo@digest`, as the chart's `items-api.image` helper writes them."""
    if "@" in reference:
        return Image(reference, "", reference.split("@", 1)[1])
    name = reference.rsplit("/", 1)[-1]
    return Image(reference, name.split(":", 1)[1] if ":" in name else "", "")


@dataclass(frozen=True)
class Rendered:
    image: Image
    # The Secret the pods read DATABASE_URL and JWT_SECRET from...
    secret: str
    # ...and whether the chart creates it from the values (else it must exist in the cluster).
    secret_in_chart: bool


def read_render(manifests: str, container: str) -> Rendered:
    """The app container's image and Secret from `helm template` output."""
    docs: list[dict[str, Any]] = [d for d in yaml.safe_load_all(manifests) if isinstance(d, dict)]
    deployment = next(d for d in docs if d.get("kind") == "Deployment")
    app = next(
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == container
    )
    secret = next(
        source["secretRef"]["name"] for source in app.get("envFrom", []) if "secretRef" in source
    )
    in_chart = any(d.get("kind") == "Secret" and d["metadata"]["name"] == secret for d in docs)
    return Rendered(parse_image(app["image"]), secret, in_chart)
