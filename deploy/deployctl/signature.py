"""Deploying by digest: which image a reference names, and the cosign check of its signature
that runs before anything touches the cluster. cosign does the verifying; this module only
chooses its trust flags and turns its verdict into one line."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import DeployError, ExitCode

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# The issuer of the tokens GitHub Actions jobs get (keyless signing in ci.yml).
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class ImageRef:
    """REGISTRY/REPOSITORY@sha256:..., split the way the chart's image values want it."""

    registry: str
    repository: str
    digest: str

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.repository}@{self.digest}"

    def values(self) -> list[str]:
        return [
            "--set-string", f"image.registry={self.registry}",
            "--set-string", f"image.repository={self.repository}",
            "--set-string", f"image.digest={self.digest}",
        ]  # fmt: skip


def parse_image_ref(reference: str) -> ImageRef:
    name, _, digest = reference.partition("@")
    registry, _, repository = name.partition("/")
    if not DIGEST.match(digest):
        raise DeployError(
            ExitCode.UNTRUSTED_IMAGE,
            f"{reference} names no digest: a tag can be moved, a digest is what was built, "
            "scanned and signed",
            "pass the reference `make image-push` printed (IMAGE_REF=REGISTRY/NAME@sha256:...)",
        )
    if not repository or ":" in repository:
        raise DeployError(
            ExitCode.UNTRUSTED_IMAGE,
            f"{reference} is not REGISTRY/NAME@sha256:... (the registry host comes first)",
            "pass the reference `make image-push` printed",
        )
    return ImageRef(registry, repository, digest)


@dataclass(frozen=True)
class Trust:
    """Whose signature an image must carry: a cosign public key, or a keyless identity
    (the signing workflow's certificate identity and its OIDC issuer)."""

    cosign: Path
    key: Path | None = None
    identity: str | None = None
    issuer: str = GITHUB_ISSUER

    def describe(self) -> str:
        return f"key {self.key}" if self.key else f"identity {self.identity} ({self.issuer})"

    def flags(self) -> list[str]:
        if self.key:
            # A key-signed image has no transparency-log entry (container/release/sign).
            return ["--key", str(self.key), "--insecure-ignore-tlog=true"]
        return [
            "--certificate-identity", str(self.identity),
            "--certificate-oidc-issuer", self.issuer,
        ]  # fmt: skip


def require_trust(trust: Trust | None, env: str) -> Trust:
    if trust is None:
        raise DeployError(
            ExitCode.UNTRUSTED_IMAGE,
            f"no signer to verify the image against for {env}",
            "set COSIGN_PUBLIC_KEY=path (make) or --verify-key, or the keyless "
            "COSIGN_IDENTITY/--verify-identity of the workflow that signs",
        )
    if trust.key and not trust.key.is_file():
        raise DeployError(
            ExitCode.UNTRUSTED_IMAGE,
            f"the verification key {trust.key} does not exist",
            "point COSIGN_PUBLIC_KEY (make) or --verify-key at the signer's public key",
        )
    return trust


def verdict(stderr: str) -> str:
    """Why cosign refused, in the operator's words (cosign's own text follows in the line)."""
    text = stderr.lower()
    if "no signatures found" in text:
        return "it carries no signature"
    if any(s in text for s in ("failed to verify signature", "do not match threshold")):
        return "its signature was not made by the trusted signer"
    if "unauthorized" in text or "denied" in text:
        return "the registry refused to show its signatures (credentials?)"
    return "cosign could not verify it"


def verify(image: ImageRef, trust: Trust) -> None:
    """Refuses, before any change, an image whose digest is not signed by `trust`."""
    argv = [str(trust.cosign), "verify", *trust.flags(), "--output", "json", image.reference]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    except FileNotFoundError:
        raise DeployError(
            ExitCode.MISSING_TOOL,
            f"cosign not found at {trust.cosign}",
            "build the pinned cosign with `make release-tools`, or pass --cosign",
        ) from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
        detail = lines[-1].removeprefix("Error: ") if lines else done.stderr.strip()[-200:]
        raise DeployError(
            ExitCode.UNTRUSTED_IMAGE,
            f"refusing {image.reference}: {verdict(done.stderr)} (verified against "
            f"{trust.describe()}; cosign: {detail})",
            "deploy a digest that ci.yml or `make image-sign` signed, or check which key "
            "or identity this environment trusts",
        )
