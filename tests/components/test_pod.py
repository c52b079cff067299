"""components/pod.py: the shared hardening and probe builders."""

from components import pod


def test_exec_probes_share_the_command_with_more_patience_at_startup():
    probes = pod.exec_probes(["true"], period_seconds=30, timeout_seconds=5)
    assert probes.startup.exec_.command == probes.liveness.exec_.command == ["true"]
    assert probes.startup.failure_threshold > probes.liveness.failure_threshold


def test_http_probes_can_use_a_separate_readiness_path():
    probes = pod.http_probes("http", liveness_path="/live", readiness_path="/ready")
    assert probes.readiness.http_get.path == "/ready"
    assert probes.liveness.http_get.path == probes.startup.http_get.path == "/live"


def test_container_security_context_is_restricted():
    context = pod.container_security_context(10001)
    assert context.allow_privilege_escalation is False
    assert context.read_only_root_filesystem is True
    assert context.capabilities.drop == ["ALL"]
    assert context.seccomp_profile.type == "RuntimeDefault"


def test_http_probes_send_no_headers_by_default():
    probes = pod.http_probes("http", liveness_path="/live", readiness_path="/ready")
    assert all(p.http_get.http_headers is None for p in (probes.startup, probes.readiness, probes.liveness))


def test_http_probes_can_send_headers():
    probes = pod.http_probes("http", liveness_path="/live", readiness_path="/ready", headers={"Host": "shop.example.com"})
    for probe in (probes.startup, probes.readiness, probes.liveness):
        [header] = probe.http_get.http_headers
        assert (header.name, header.value) == ("Host", "shop.example.com")
