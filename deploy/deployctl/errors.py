"""Exit codes and the one exception type the CLI turns into a message and an exit code."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # An unexpected failure: a bug in deployctl, shown with its traceback.
    BUG = 1
    # click's own code for bad arguments.
    USAGE = 2
    NO_CLUSTER = 3
    UNREACHABLE = 4
    PREFLIGHT = 5
    RELEASE_FAILED = 6
    VERIFY_FAILED = 7
    MISSING_TOOL = 8
    UNTRUSTED_IMAGE = 9


EXIT_CODE_HELP = {
    ExitCode.OK: "success",
    ExitCode.BUG: "unexpected error (a bug: please report the traceback)",
    ExitCode.USAGE: "bad command-line arguments",
    ExitCode.NO_CLUSTER: "no cluster configured (no kubeconfig found)",
    ExitCode.UNREACHABLE: "the API server cannot be reached or rejects the credentials",
    ExitCode.PREFLIGHT: "a preflight check failed (context, namespace, Secret, values, image tag)",
    ExitCode.RELEASE_FAILED: "helm failed (a failed deploy is rolled back by --atomic)",
    ExitCode.VERIFY_FAILED: "the release is installed but not healthy (rollout, pods, /readyz)",
    ExitCode.MISSING_TOOL: "the helm binary, its helm-diff plugin or cosign is missing",
    ExitCode.UNTRUSTED_IMAGE: "the image is not a digest signed by the trusted key or identity "
    "(checked before the cluster is touched)",
}


class DeployError(Exception):
    """An expected failure: `problem` says what is wrong, `fix` what the operator should do."""

    def __init__(self, code: ExitCode, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.code = code
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        # One line, so it survives make's output and CI log greps.
        return f"{self.problem}. Fix: {self.fix}" if self.fix else self.problem
