"""What `make diff` shows: changed, added and removed objects, Secret values never."""

import base64

from deployctl.diff import diff_manifests

CURRENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: items-api}
spec:
  replicas: 2
  template: {spec: {containers: [{name: app, image: "localhost/items-api:0.1.0-aaa"}]}}
---
apiVersion: v1
kind: Secret
metadata: {name: items-api}
data: {JWT_SECRET: c2VjcmV0LW9uZQ==, DATABASE_URL: dXJs}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: items-api}
"""

PDB = "apiVersion: policy/v1\nkind: PodDisruptionBudget\n"
HPA = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
# A new image and JWT secret, the PDB dropped and an HPA added.
NEW = (
    CURRENT.replace("0.1.0-aaa", "0.1.0-bbb")
    .replace("c2VjcmV0LW9uZQ==", "c2VjcmV0LXR3bw==")
    .replace(PDB, HPA)
)


def test_each_changed_object_is_one_block_marked_by_its_change():
    blocks = diff_manifests(CURRENT, NEW)
    heads = [block.splitlines()[0] for block in blocks]
    assert heads == [
        "~ Deployment/items-api",
        "+ HorizontalPodAutoscaler/items-api",
        "- PodDisruptionBudget/items-api",
        "~ Secret/items-api",
    ]
    changed = [line.strip() for line in blocks[0].splitlines()[3:] if line[4] in "+-"]
    assert changed == [
        "-      - image: localhost/items-api:0.1.0-aaa",
        "+      - image: localhost/items-api:0.1.0-bbb",
    ]


def test_secret_values_are_redacted_but_a_change_still_shows():
    secret = diff_manifests(CURRENT, NEW)[-1]
    for value in ("c2VjcmV0LW9uZQ==", "c2VjcmV0LXR3bw==", "secret-one", "secret-two"):
        assert value not in secret
    assert "JWT_SECRET: <redacted sha256:" in secret
    # The unchanged key has the same digest on both sides, so it is no diff line.
    assert not any(
        line.lstrip().startswith(("-DATABASE", "+DATABASE")) for line in secret.splitlines()
    )


def test_no_change_and_a_first_install():
    assert diff_manifests(NEW, NEW) == []
    assert all(block.startswith("+ ") for block in diff_manifests("", NEW))


def test_string_data_is_redacted_too():
    secret = "kind: Secret\nmetadata: {name: s}\nstringData: {JWT_SECRET: plain-text}\n"
    assert "plain-text" not in "\n".join(diff_manifests("", secret))
    assert base64.b64encode(b"plain-text").decode() not in "\n".join(diff_manifests("", secret))
