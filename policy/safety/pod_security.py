"""Rule 3: every pod template meets Pod Security Standards "restricted".

Written from the standard's published controls (baseline plus restricted), so a pod
that passes here is admitted by a namespace that enforces `restricted`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from safety.model import Report, Resource, all_containers, workloads

RULE = "pod-security"
TITLE = 'Pod Security Standards "restricted" for every pod template'

ALLOWED_VOLUME_SOURCES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
ALLOWED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
ALLOWED_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})


def pod_problems(pod: Mapping[str, Any]) -> list[str]:
    """Every way a pod spec falls short of "restricted"; empty when it complies."""
    problems = []
    pod_context = pod.get("securityContext") or {}

    for namespace in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(namespace):
            problems.append(f"{namespace} is true")
    for volume in pod.get("volumes") or []:
        sources = set(volume) - {"name"}
        if not sources <= ALLOWED_VOLUME_SOURCES:
            problems.append(f"volume {volume.get('name')} uses {', '.join(sorted(sources - ALLOWED_VOLUME_SOURCES))}")
    for sysctl in pod_context.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            problems.append(f"sysctl {sysctl.get('name')} is not in the safe set")
    problems += _selinux_problems("pod", pod_context)
    if pod_context.get("runAsUser") == 0:
        problems.append("pod runAsUser is 0")

    pod_non_root = pod_context.get("runAsNonRoot") is True
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    if pod_seccomp is not None and pod_seccomp not in ALLOWED_SECCOMP:
        problems.append(f"pod seccompProfile is {pod_seccomp}")

    for container in all_containers(pod):
        problems += [f"container {container.get('name')}: {p}" for p in _container_problems(container, pod_non_root, pod_seccomp)]
    return problems


def _container_problems(container: Mapping[str, Any], pod_non_root: bool, pod_seccomp: str | None) -> list[str]:
    problems = []
    context = container.get("securityContext") or {}
    if context.get("privileged"):
        problems.append("privileged")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    capabilities = context.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        problems.append("capabilities do not drop ALL")
    added = set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}
    if added:
        problems.append(f"capabilities add {', '.join(sorted(added))}")
    non_root = context.get("runAsNonRoot")
    if non_root is False or (non_root is None and not pod_non_root):
        problems.append("runAsNonRoot is not true")
    if context.get("runAsUser") == 0:
        problems.append("runAsUser is 0")
    seccomp = (context.get("seccompProfile") or {}).get("type", pod_seccomp)
    if seccomp not in ALLOWED_SECCOMP:
        problems.append(f"seccompProfile is {seccomp or 'unset'} (RuntimeDefault or Localhost)")
    if context.get("procMount") not in (None, "Default"):
        problems.append(f"procMount is {context.get('procMount')}")
    apparmor = (context.get("appArmorProfile") or {}).get("type")
    if apparmor not in (None, "RuntimeDefault", "Localhost"):
        problems.append(f"appArmorProfile is {apparmor}")
    problems += _selinux_problems("container", context)
    for port in container.get("ports") or []:
        if port.get("hostPort"):
            problems.append(f"hostPort {port.get('hostPort')}")
    return problems


def _selinux_problems(where: str, context: Mapping[str, Any]) -> list[str]:
    options = context.get("seLinuxOptions") or {}
    problems = []
    if options.get("type", "") not in ALLOWED_SELINUX_TYPES:
        problems.append(f"{where} seLinuxOptions.type is {options.get('type')}")
    if options.get("user") or options.get("role"):
        problems.append(f"{where} seLinuxOptions sets user or role")
    return problems


def check(resources: Sequence[Resource], environment: str) -> Report:
    report = Report(RULE, TITLE)
    for resource, pod in workloads(resources):
        report.checked += 1
        for problem in pod_problems(pod):
            report.violation(resource, problem)
    return report
