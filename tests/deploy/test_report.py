"""What the operator reads: the summary, the failing pods, what --atomic did."""

from deployctl.actions import failure_outcome
from deployctl.release import Release
from deployctl.report import format_pod_reports, format_summary
from deployctl.verify import Health, PodReport


def test_summary_names_revision_image_pods_readyz_and_time():
    health = Health(
        problems=[],
        pods=["items-api-5d-a", "items-api-5d-b"],
        ready=2,
        images=["localhost/items-api:0.1.0-abc1234"],
        readyz="200 via service proxy items-api:http",
    )
    summary = format_summary("deployed", Release.for_env("e2e"), "project", 4, health, 41.26)
    assert summary.splitlines() == [
        "deployed items-api in namespace items-api-e2e (context project)",
        "  revision 4",
        "  image    localhost/items-api:0.1.0-abc1234",
        "  pods     2/2 ready (items-api-5d-a, items-api-5d-b)",
        "  readyz   200 via service proxy items-api:http",
        "  took     41.3s",
    ]


def test_pod_report_shows_problem_events_and_last_log_lines():
    report = PodReport(
        name="items-api-5d-a",
        problem="app: CrashLoopBackOff - last exit Error (1), 3 restarts",
        events=["Warning BackOff: Back-off restarting failed container (x3)"],
        logs={"app": "Traceback...\nRuntimeError: JWT_SECRET is the default\n", "nginx": ""},
    )
    assert format_pod_reports([report]).splitlines() == [
        "pod items-api-5d-a: app: CrashLoopBackOff - last exit Error (1), 3 restarts",
        "  events:",
        "    Warning BackOff: Back-off restarting failed container (x3)",
        "  last log lines of app:",
        "    Traceback...",
        "    RuntimeError: JWT_SECRET is the default",
        "  last log lines of nginx:",
        "    (empty)",
    ]


def test_no_failing_pod_points_back_to_helm():
    assert "helm's error" in format_pod_reports([])


def test_failure_outcome_says_what_runs_now():
    upgrade = (
        "Error: UPGRADE FAILED: release items-api failed, and has been rolled back due to "
        "atomic being set: context deadline exceeded"
    )
    install = (
        "Error: INSTALLATION FAILED: release items-api failed, and has been uninstalled due to "
        "atomic being set: context deadline exceeded"
    )
    render = "Error: UPGRADE FAILED: execution error at (items-api/templates/x): VALUES VALIDATION"
    assert "rolled back to its previous revision" in failure_outcome(upgrade)
    assert "first install was removed" in failure_outcome(install)
    assert failure_outcome(render) == "helm changed nothing in the cluster"
    cleanup = "Error: an error occurred while rolling back the release. original upgrade error: x"
    assert "make status" in failure_outcome(cleanup)
