"""Pure builders for the pieces every pod of the project shares.

They return typed pulumi-kubernetes args and hold the hardening decisions in one
place: Pod Security Standards "restricted" (non-root, no privilege escalation, all
capabilities dropped, seccomp RuntimeDefault), a read-only root filesystem with a
writable /tmp, and topology spread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi_kubernetes as k8s

TMP_VOLUME = "tmp"


def pod_security_context(run_as_user: int) -> k8s.core.v1.PodSecurityContextArgs:
    # A numeric user lets the kubelet prove runAsNonRoot even when the image's USER is
    # a name; fsGroup makes mounted volumes writable by that user.
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=run_as_user,
        run_as_group=run_as_user,
        fs_group=run_as_user,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security_context(run_as_user: int) -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        run_as_user=run_as_user,
        run_as_group=run_as_user,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def tmp_volume(size_limit: str = "256Mi") -> k8s.core.v1.VolumeArgs:
    """Scratch space for a read-only root filesystem (gunicorn heartbeats, uploads, pid files)."""
    return k8s.core.v1.VolumeArgs(
        name=TMP_VOLUME, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=size_limit)
    )


def tmp_mount() -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=TMP_VOLUME, mount_path="/tmp")


def resource_requirements(
    requests: dict[str, str], limits: dict[str, str]
) -> k8s.core.v1.ResourceRequirementsArgs:
    return k8s.core.v1.ResourceRequirementsArgs(requests=dict(requests), limits=dict(limits))


def topology_spread(
    selector: dict[str, str], *, strict_nodes: bool
) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Spread replicas across nodes and zones.

    Zones are best effort (clusters without zone labels still schedule); nodes are a
    hard rule when `strict_nodes`, so one node failure cannot take every replica.
    """

    def spread(key: str, when: str) -> k8s.core.v1.TopologySpreadConstraintArgs:
        return k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable=when,
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selector)),
        )

    return [
        spread("kubernetes.io/hostname", "DoNotSchedule" if strict_nodes else "ScheduleAnyway"),
        spread("topology.kubernetes.io/zone", "ScheduleAnyway"),
    ]


def disruption_budget_spec(selector: dict[str, str]) -> k8s.policy.v1.PodDisruptionBudgetSpecArgs:
    """At most one pod of a workload down for voluntary disruptions (drains, upgrades).

    maxUnavailable (not minAvailable) so a single replica can still be drained; and a
    pod that is not ready anyway (crash-looping, stuck starting) may always be
    evicted, or that one broken pod would block every node drain (Kubernetes >= 1.27).
    """
    return k8s.policy.v1.PodDisruptionBudgetSpecArgs(
        max_unavailable=1,
        unhealthy_pod_eviction_policy="AlwaysAllow",
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selector)),
    )


@dataclass(frozen=True)
class ProbeSet:
    startup: k8s.core.v1.ProbeArgs
    readiness: k8s.core.v1.ProbeArgs
    liveness: k8s.core.v1.ProbeArgs


def http_probes(
    port: str, *, liveness_path: str, readiness_path: str, headers: Mapping[str, str] | None = None
) -> ProbeSet:
    """Probes for an HTTP server.

    Startup allows a slow boot (up to 150 s: imports, preloading the app) without a
    lenient liveness probe; readiness reacts fast so a struggling pod stops getting
    traffic; liveness is slow to fire so a busy pod is not killed for being busy.
    `headers` go with every probe: the kubelet sends the pod IP as Host, which an app
    that checks Host (Django's ALLOWED_HOSTS) answers with 400.
    """
    http_headers = [k8s.core.v1.HTTPHeaderArgs(name=n, value=v) for n, v in (headers or {}).items()] or None

    def get(path: str) -> k8s.core.v1.HTTPGetActionArgs:
        return k8s.core.v1.HTTPGetActionArgs(path=path, port=port, http_headers=http_headers)

    return ProbeSet(
        startup=k8s.core.v1.ProbeArgs(
            http_get=get(liveness_path), period_seconds=5, timeout_seconds=3, failure_threshold=30
        ),
        readiness=k8s.core.v1.ProbeArgs(
            http_get=get(readiness_path),
            period_seconds=10,
            timeout_seconds=3,
            failure_threshold=3,
            success_threshold=1,
        ),
        liveness=k8s.core.v1.ProbeArgs(
            http_get=get(liveness_path), period_seconds=20, timeout_seconds=5, failure_threshold=3
        ),
    )


def exec_probe(command: Sequence[str], *, period_seconds: int, timeout_seconds: int, failures: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        exec_=k8s.core.v1.ExecActionArgs(command=list(command)),
        period_seconds=period_seconds,
        timeout_seconds=timeout_seconds,
        failure_threshold=failures,
    )


def exec_probes(command: Sequence[str], *, period_seconds: int, timeout_seconds: int) -> ProbeSet:
    """Probes for a process without a port (queue workers, schedulers).

    The same health command serves all three; startup gives ten periods to come up,
    readiness and liveness act after three failures.
    """

    def probe(failures: int) -> k8s.core.v1.ProbeArgs:
        return exec_probe(command, period_seconds=period_seconds, timeout_seconds=timeout_seconds, failures=failures)

    return ProbeSet(startup=probe(10), readiness=probe(3), liveness=probe(3))
