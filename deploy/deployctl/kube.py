"""The cluster side: which kubeconfig and context, whether the API server answers, and the few
reads and writes deployctl makes. Every API object comes back as its JSON dict (the shape
`kubectl get -o json` shows), so the logic that reads them is plain and testable."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from .errors import DeployError, ExitCode
from .release import Policy

HOW_TO_POINT = (
    "point KUBECONFIG at a kubeconfig (make cluster-up prints the project cluster's), "
    "or start the project cluster with `make cluster-up`"
)

T = TypeVar("T")
# The label on namespaces deployctl created, so an operator can tell them apart.
CREATED_BY_US = ("app.kubernetes.io/managed-by", "deployctl")


@dataclass(frozen=True)
class KubeconfigSource:
    # A path list, as $KUBECONFIG holds one.
    paths: str
    # Where the paths came from, as the operator would name it in a fix.
    origin: str


def kubeconfig_source(explicit: str | None, environ: Mapping[str, str]) -> KubeconfigSource:
    """kubectl's lookup order: --kubeconfig, then $KUBECONFIG, then ~/.kube/config."""
    if explicit:
        return KubeconfigSource(explicit, "--kubeconfig")
    if environ.get("KUBECONFIG"):
        return KubeconfigSource(environ["KUBECONFIG"], "KUBECONFIG")
    return KubeconfigSource("~/.kube/config", "~/.kube/config")


def read_contexts(source: KubeconfigSource) -> tuple[list[str], str | None]:
    """Context names and current-context, the files merged by the kubernetes client (which,
    like kubectl, skips listed files that do not exist)."""
    try:
        merged = config.kube_config.KubeConfigMerger(source.paths)
    except (
        OSError,
        yaml.YAMLError,
        config.ConfigException,
        LookupError,
        TypeError,
        AttributeError,
    ) as exc:
        raise DeployError(
            ExitCode.NO_CLUSTER,
            f"kubeconfig {source.paths} cannot be read: {exc}".replace("\n", " "),
            f"fix or remove that file; {HOW_TO_POINT}",
        ) from None
    if not merged.paths:
        unset = "KUBECONFIG is unset and ~/.kube/config is missing"
        named = f"{source.origin}={source.paths} names no existing file"
        raise DeployError(
            ExitCode.NO_CLUSTER,
            "no Kubernetes cluster configured: "
            + (unset if source.origin == "~/.kube/config" else named),
            HOW_TO_POINT,
        )
    names = [c.value["name"] for c in merged.config.value["contexts"]]
    if not names:
        raise DeployError(
            ExitCode.NO_CLUSTER,
            f"no Kubernetes cluster configured: {source.paths} defines no context",
            HOW_TO_POINT,
        )
    # kubectl's rule, where the client lets the last file win: the first file setting it.
    files = merged.config_files.values()
    return names, next((f["current-context"] for f in files if f.get("current-context")), None)


def choose_context(
    contexts: list[str], current: str | None, requested: str | None, policy: Policy, env: str
) -> str:
    available = ", ".join(contexts) or "none"
    if requested:
        if requested not in contexts:
            raise DeployError(
                ExitCode.PREFLIGHT,
                f"context {requested!r} is not in the kubeconfig (available: {available})",
                "pass one of the available contexts as KUBE_CONTEXT= (make) or --context",
            )
        return requested
    if policy.require_explicit_context:
        raise DeployError(
            ExitCode.PREFLIGHT,
            f"{env} needs an explicit context, not the kubeconfig's current-context "
            f"({current or 'unset'})",
            f"name the {env} cluster's context with KUBE_CONTEXT= (make) or --context "
            f"(available: {available})",
        )
    if not current or current not in contexts:
        raise DeployError(
            ExitCode.PREFLIGHT,
            f"the kubeconfig has no usable current-context (available: {available})",
            "pass a context as KUBE_CONTEXT= (make) or --context, or run "
            "`kubectl config use-context NAME`",
        )
    return current


def _connection_problem(exc: Exception) -> tuple[str, str]:
    """What went wrong on the way to the API server, and what to fix."""
    reason = getattr(exc, "reason", None) or exc
    fix = (
        "start the cluster, or point KUBECONFIG / KUBE_CONTEXT at a running one "
        "(`make cluster-up` starts the project cluster)"
    )
    if isinstance(reason, urllib3.exceptions.SSLError):
        return f"TLS verification failed ({reason})", (
            "the kubeconfig's certificate-authority does not match this server: refresh the "
            "kubeconfig (`make cluster-up` rewrites the project cluster's)"
        )
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        # urllib3 prefixes the OS error with the connection object's repr.
        return str(reason).rsplit("Failed to establish a new connection: ", 1)[-1], fix
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError | TimeoutError):
        return "connection timed out", fix
    return str(reason), fix


class Kube:
    """A connected API client for one context."""

    def __init__(self, api: client.ApiClient, context: str, server: str, timeout: float) -> None:
        self.api = api
        self.context = context
        self.server = server
        self.timeout = timeout

    # Built on first use: importing an API group of this client takes about a second, and the
    # reachability check needs neither.
    @cached_property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @cached_property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api)

    @classmethod
    def connect(cls, source: KubeconfigSource, context: str, timeout: float = 10) -> "Kube":
        configuration = client.Configuration()
        try:
            config.load_kube_config(
                config_file=source.paths,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
        except (config.ConfigException, OSError, ValueError) as exc:
            raise DeployError(
                ExitCode.PREFLIGHT,
                f"context {context!r} in {source.paths} cannot be used: {exc}",
                "repair that kubeconfig entry (for the project cluster: `make cluster-up` "
                "rewrites it)",
            ) from None
        # One retry: a refused or silent API server should fail in seconds, not minutes.
        configuration.retries = 1
        return cls(client.ApiClient(configuration), context, configuration.host, timeout)

    def call(self, what: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs one API request, turning transport and permission failures into DeployErrors
        that name the context, the server and the request."""
        try:
            return method(*args, _request_timeout=self.timeout, **kwargs)
        except urllib3.exceptions.HTTPError as exc:
            problem, fix = _connection_problem(exc)
            raise DeployError(
                ExitCode.UNREACHABLE,
                f"cannot reach the API server {self.server} (context {self.context}) "
                f"while trying to {what}: {problem}",
                fix,
            ) from None
        except ApiException as exc:
            if exc.status == 401:
                raise DeployError(
                    ExitCode.UNREACHABLE,
                    f"the API server {self.server} rejected the credentials of context "
                    f"{self.context} (401 Unauthorized) while trying to {what}",
                    "renew the user's credentials in the kubeconfig",
                ) from None
            if exc.status == 403:
                raise DeployError(
                    ExitCode.PREFLIGHT,
                    f"the user of context {self.context} may not {what} (403 Forbidden)",
                    "use a context whose user has that permission, or ask for a RoleBinding",
                ) from None
            raise

    def json(self, obj: Any) -> Any:
        return self.api.sanitize_for_serialization(obj)

    def server_version(self) -> str:
        version = self.call("read the server version", client.VersionApi(self.api).get_code)
        return version.git_version

    def namespace_exists(self, namespace: str) -> bool:
        try:
            self.call(f"read namespace {namespace}", self.core.read_namespace, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def create_namespace(self, namespace: str) -> None:
        body = client.V1Namespace(
            metadata=client.V1ObjectMeta(name=namespace, labels=dict([CREATED_BY_US]))
        )
        self.call(f"create namespace {namespace}", self.core.create_namespace, body)

    def secret_keys(self, namespace: str, name: str) -> set[str] | None:
        """The keys of a Secret (never its values), or None when it does not exist."""
        try:
            secret = self.call(
                f"read Secret {name} in namespace {namespace}",
                self.core.read_namespaced_secret,
                name,
                namespace,
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return set(secret.data or {}) | set(secret.string_data or {})

    def _list(
        self, what: str, method: Callable[..., Any], namespace: str, **selector: str
    ) -> list[dict[str, Any]]:
        found = self.call(f"list {what} in namespace {namespace}", method, namespace, **selector)
        return self.json(found.items)

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return self._list("pods", self.core.list_namespaced_pod, namespace, label_selector=selector)

    def deployments(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        method = self.apps.list_namespaced_deployment
        return self._list("Deployments", method, namespace, label_selector=selector)

    def services(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        method = self.core.list_namespaced_service
        return self._list("Services", method, namespace, label_selector=selector)

    def claims(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        method = self.core.list_namespaced_persistent_volume_claim
        return self._list("PersistentVolumeClaims", method, namespace, label_selector=selector)

    def jobs(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        method = self.batch.list_namespaced_job
        return self._list("Jobs", method, namespace, label_selector=selector)

    def pod_events(self, namespace: str, pod: str) -> list[dict[str, Any]]:
        involved = f"involvedObject.kind=Pod,involvedObject.name={pod}"
        method = self.core.list_namespaced_event
        return self._list("events", method, namespace, field_selector=involved)

    def warning_events(self, namespace: str) -> list[dict[str, Any]]:
        method = self.core.list_namespaced_event
        return self._list("events", method, namespace, field_selector="type=Warning")

    def pod_log(self, namespace: str, pod: str, container: str, previous: bool, lines: int) -> str:
        """The last log lines, or an explanation when there are none (a container that never
        started has no log; that is a diagnosis too)."""
        try:
            return self.call(
                f"read the log of pod {pod}",
                self.core.read_namespaced_pod_log,
                pod,
                namespace,
                container=container,
                previous=previous,
                tail_lines=lines,
            )
        except ApiException as exc:
            return f"(no log: {exc.status} {exc.reason})"

    def proxy_get(self, namespace: str, service: str, port: str, path: str) -> tuple[int, str]:
        """GET through the API server's service proxy: what the Service itself answers."""
        try:
            body = self.call(
                f"proxy to Service {service} in namespace {namespace}",
                self.core.connect_get_namespaced_service_proxy_with_path,
                f"{service}:{port}",
                namespace,
                path.lstrip("/"),
            )
        except ApiException as exc:
            return exc.status, exc.body or exc.reason or ""
        return 200, body

    def delete_job(self, namespace: str, name: str) -> None:
        self.call(
            f"delete Job {name} in namespace {namespace}",
            self.batch.delete_namespaced_job,
            name,
            namespace,
            propagation_policy="Background",
        )
