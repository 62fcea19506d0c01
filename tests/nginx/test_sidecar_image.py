"""The sidecar image as the pod runs it: non-root, read-only root, only /tmp/nginx writable."""

import os
import re
import threading
from pathlib import Path

import httpx
import pytest
import yaml

from harness.container import Engine
from harness.net import free_port, wait_for_http
from harness.wait import eventually
from nginx import render
from tests.image.conftest import engine  # noqa: F401 (the engine fixture)

REPO = Path(__file__).resolve().parents[2]
NGINX_VALUES = yaml.safe_load((REPO / "helm/items-api/values.yaml").read_text())["nginx"]
IMAGE = "{registry}/{repository}:{tag}".format(**NGINX_VALUES["image"])
USER = "{runAsUser}:{runAsGroup}".format(**NGINX_VALUES["securityContext"])
# The chart's container securityContext and emptyDir, in engine flags.
POD_LIKE = (
    "--user", USER, "--read-only", "--tmpfs", "/tmp/nginx:rw,mode=1777",
    "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
)  # fmt: skip

pytestmark = [pytest.mark.container, pytest.mark.slow]


class Sidecar:
    def __init__(self, runner: Engine, name: str, port: int, status_port: int) -> None:
        self.engine, self.name = runner, name
        self.url = f"http://127.0.0.1:{port}"
        self.status_url = f"http://127.0.0.1:{status_port}"

    def exec(self, *command: str):
        return self.engine("exec", self.name, *command, check=False)

    def logs(self) -> str:
        result = self.engine("logs", self.name)
        return result.stdout + result.stderr

    def requests_in_flight(self) -> int:
        status = httpx.get(f"{self.status_url}/stub_status").text
        # The stub_status request itself is one of the "Writing" ones.
        return int(re.search(r"Writing: (\d+)", status)[1]) - 1


@pytest.fixture
def sidecar(engine: Engine, service, tmp_path: Path):  # noqa: F811
    if engine("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.fail(f"image {IMAGE} not found: build it with `make nginx-image`")
    port, status_port = free_port(), free_port()
    # The chart's rendering, on free host ports: the container shares the host network.
    values = render.values_for(
        "sidecar",
        {
            "HTTP_PORT": str(port),
            "STATUS_LISTEN": f"127.0.0.1:{status_port}",
            "UPSTREAM": f"127.0.0.1:{service.port}",
        },
    )
    conf = tmp_path / "conf"
    conf.mkdir()
    for name, text in render.render(values).items():
        (conf / name).write_text(text)
    tmp_path.chmod(0o755)
    name = f"items-api-nginx-test-{os.getpid()}"
    engine(
        "run", "--detach", "--name", name, "--network", "host", *POD_LIKE,
        "--volume", f"{conf}:/etc/nginx/items-api:ro", IMAGE,
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{status_port}/healthz", timeout=20)
        yield Sidecar(engine, name, port, status_port)
    finally:
        engine("rm", "--force", name, check=False)


def test_sidecar_proxies_as_non_root_on_a_read_only_root(sidecar: Sidecar):
    response = httpx.get(f"{sidecar.url}/api/v1/ping", headers={"X-Request-ID": "sidecar-0001"})

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "sidecar-0001"
    uid = re.search(r"^Uid:\s+(\d+)", sidecar.exec("cat", "/proc/1/status").stdout, re.M)[1]
    assert uid == USER.split(":")[0]
    assert sidecar.exec("touch", "/etc/nginx/written").returncode != 0
    eventually(lambda: '"request_id":"sidecar-0001"' in sidecar.logs(), "the access log line")


def test_stopping_the_sidecar_lets_an_in_flight_request_finish(sidecar: Sidecar):
    responses: list[httpx.Response] = []
    request = threading.Thread(
        target=lambda: responses.append(httpx.get(f"{sidecar.url}/api/v1/slow?ms=2000", timeout=15))
    )
    request.start()
    eventually(lambda: sidecar.requests_in_flight() == 1, "the request reaching nginx")

    sidecar.engine("stop", "--time", "15", sidecar.name)
    request.join()

    assert responses[0].status_code == 200
    exit_code = sidecar.engine("inspect", "--format", "{{.State.ExitCode}}", sidecar.name)
    assert exit_code.stdout.strip() == "0"
