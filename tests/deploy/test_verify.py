"""Reading rollout and pod state from API objects (shaped as `kubectl get -o json` shows them)."""

from datetime import UTC, datetime

import pytest
from deployctl.verify import (
    format_events,
    pod_problem,
    proxy_failure,
    recent_warnings,
    rollout_problem,
    service_port,
    unfinished_jobs,
)


def deployment(*conditions):
    return {"metadata": {"name": "items-api"}, "status": {"conditions": list(conditions)}}


def condition(kind, status, reason, message="m"):
    return {"type": kind, "status": status, "reason": reason, "message": message}


AVAILABLE = condition("Available", "True", "MinimumReplicasAvailable")
PROGRESSING = condition("Progressing", "True", "NewReplicaSetAvailable")


@pytest.mark.parametrize(
    ("dep", "problem"),
    [
        (deployment(AVAILABLE, PROGRESSING), None),
        (deployment(), None),
        (
            deployment(AVAILABLE, condition("Progressing", "False", "ProgressDeadlineExceeded")),
            "Deployment items-api: ProgressDeadlineExceeded (m)",
        ),
        (
            deployment(condition("Available", "False", "MinimumReplicasUnavailable"), PROGRESSING),
            "MinimumReplicasUnavailable",
        ),
        (
            deployment(
                AVAILABLE,
                condition("ReplicaFailure", "True", "FailedCreate", 'exceeded quota: "q"'),
            ),
            'FailedCreate (exceeded quota: "q")',
        ),
    ],
)
def test_rollout_state_is_the_controllers_verdict(dep, problem):
    found = rollout_problem(dep)
    assert found == problem if problem is None else problem in found


def pod(ready=False, phase="Running", containers=(), conditions=(), deleting=False):
    meta = {"name": "items-api-1"} | (
        {"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {}
    )
    ready_condition = {"type": "Ready", "status": "True" if ready else "False"}
    return {
        "metadata": meta,
        "status": {
            "phase": phase,
            "conditions": [ready_condition, *conditions],
            "containerStatuses": list(containers),
        },
    }


def test_ready_finished_and_terminating_pods_have_no_problem():
    assert pod_problem(pod(ready=True)) is None
    assert pod_problem(pod(phase="Succeeded")) is None
    assert pod_problem(pod(deleting=True)) is None


def test_crash_loop_shows_the_last_exit():
    crashing = {
        "name": "app",
        "ready": False,
        "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
    }
    assert pod_problem(pod(containers=[crashing])) == (
        "app: CrashLoopBackOff - last exit OOMKilled (137), 4 restarts"
    )


def test_image_pull_failure_shows_the_message():
    pulling = {
        "name": "app",
        "ready": False,
        "restartCount": 0,
        "state": {
            "waiting": {
                "reason": "ErrImageNeverPull",
                "message": 'image "localhost/items-api:nope" is not present',
            }
        },
    }
    assert "ErrImageNeverPull - image" in pod_problem(pod(containers=[pulling]))


def test_running_but_failing_readiness():
    running = {"name": "app", "ready": False, "restartCount": 0, "state": {"running": {}}}
    assert pod_problem(pod(containers=[running])) == "app: running, not ready"


def test_unschedulable_pod_shows_the_scheduler_reason():
    unscheduled = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": "0/1 nodes are available: 1 Insufficient memory.",
    }
    problem = pod_problem(pod(phase="Pending", conditions=[unscheduled]))
    assert problem == "Unschedulable: 0/1 nodes are available: 1 Insufficient memory."


def test_service_port_picks_the_service_selecting_the_pods_and_its_http_port():
    services = [
        {
            "metadata": {"name": "items-api-postgresql"},
            "spec": {
                "selector": {"app.kubernetes.io/component": "postgresql"},
                "ports": [{"name": "tcp-postgresql", "port": 5432}],
            },
        },
        {
            "metadata": {"name": "items-api"},
            "spec": {
                "selector": {"app.kubernetes.io/name": "items-api"},
                "ports": [{"name": "metrics", "port": 9000}, {"name": "http", "port": 80}],
            },
        },
    ]
    labels = {"app.kubernetes.io/name": "items-api", "app.kubernetes.io/instance": "items-api"}
    assert service_port(services, labels) == ("items-api", "http")
    assert service_port(services[:1], labels) == ("", "")


def test_service_port_reaches_the_app_container_past_an_nginx_front():
    # The chart with nginx.enabled: the public port goes to nginx, which answers /readyz 404.
    service = {
        "metadata": {"name": "items-api"},
        "spec": {
            "selector": {"app.kubernetes.io/name": "items-api"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "proxy"},
                {"name": "metrics", "port": 9000, "targetPort": "metrics"},
            ],
        },
    }
    assert service_port([service], {"app.kubernetes.io/name": "items-api"}) == (
        "items-api",
        "metrics",
    )


def test_events_are_shown_oldest_first_with_counts():
    events = [
        {
            "type": "Warning",
            "reason": "BackOff",
            "message": "Back-off restarting",
            "count": 5,
            "lastTimestamp": "2026-01-01T00:00:09Z",
        },
        {
            "type": "Normal",
            "reason": "Pulled",
            "message": "Container image present",
            "lastTimestamp": "2026-01-01T00:00:01Z",
        },
    ]
    assert format_events(events) == [
        "Normal Pulled: Container image present",
        "Warning BackOff: Back-off restarting (x5)",
    ]


def test_recent_warnings_are_about_objects_above_the_pods():
    since = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    events = [
        {
            "type": "Warning",
            "reason": "FailedCreate",
            "message": "exceeded quota",
            "involvedObject": {"kind": "ReplicaSet", "name": "items-api-5d"},
            "lastTimestamp": "2026-01-01T12:00:05+00:00",
        },
        {
            "type": "Warning",
            "reason": "FailedCreate",
            "message": "old news",
            "involvedObject": {"kind": "ReplicaSet", "name": "items-api-4c"},
            "lastTimestamp": "2026-01-01T11:00:00+00:00",
        },
        {
            "type": "Warning",
            "reason": "BackOff",
            "message": "pod events are shown per pod",
            "involvedObject": {"kind": "Pod", "name": "items-api-5d-x"},
            "lastTimestamp": "2026-01-01T12:00:05+00:00",
        },
    ]
    assert recent_warnings(events, since) == [
        "Warning ReplicaSet/items-api-5d FailedCreate: exceeded quota"
    ]


def test_repeated_events_fold_into_one_line_with_the_total():
    again = {"type": "Warning", "reason": "FailedScheduling", "message": "no nodes available"}
    events = [
        {**again, "count": 1, "lastTimestamp": "2026-01-01T00:00:01Z"},
        {
            "type": "Normal",
            "reason": "Scheduled",
            "message": "x",
            "lastTimestamp": "2026-01-01T00:00:02Z",
        },
        {**again, "count": 3, "lastTimestamp": "2026-01-01T00:00:03Z"},
    ]
    assert format_events(events) == [
        "Normal Scheduled: x",
        "Warning FailedScheduling: no nodes available (x4)",
    ]


def test_proxy_failures_show_the_api_servers_reason_or_the_services_answer():
    # What the API server answered for a Service without ready endpoints (seen for real).
    no_endpoints = (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
        '"no endpoints available for service \\"items-api\\"","reason":"ServiceUnavailable",'
        '"code":503}'
    )
    assert proxy_failure(503, no_endpoints) == '503: no endpoints available for service "items-api"'
    blocked = (
        '{"kind":"Status","message":"error trying to reach service: dial tcp 10.0.0.5:8000: '
        'i/o timeout","code":503}'
    )
    assert "networkPolicy.extraIngress" in proxy_failure(503, blocked)
    problem = '{"type":"about:blank","title":"Service Unavailable","detail":"database: timeout"}'
    assert proxy_failure(503, problem) == f"503: {problem}"


def test_events_within_one_second_keep_the_apis_order():
    # As the API server returned them: the scheduler's eventTime has a fraction, the
    # kubelet's lastTimestamp has none.
    events = [
        {"type": "Normal", "reason": "Scheduled", "message": "assigned",
         "eventTime": "2026-11-23T18:19:06.185703+00:00"},
        {"type": "Normal", "reason": "Pulled", "message": "present",
         "lastTimestamp": "2026-11-23T18:19:06+00:00"},
    ]  # fmt: skip
    assert format_events(events) == ["Normal Scheduled: assigned", "Normal Pulled: present"]


def test_unfinished_jobs_are_the_ones_left_behind():
    jobs = [
        {"metadata": {"name": "items-api-migrate"}, "status": {"active": 1, "failed": 2}},
        {"metadata": {"name": "items-api-migrate-old"}, "status": {"succeeded": 1}},
    ]
    assert unfinished_jobs(jobs) == ["items-api-migrate"]
