"""The safety rules, one module each, shared by the test suite and the policy pack.

Each rule is `check(resources, environment) -> Report`, a pure function of the
stack's resources (Kubernetes objects with their resource options).
"""

from __future__ import annotations

from collections.abc import Sequence

from safety import data_safety, hardening, network_isolation, pod_security, reliability, secret_exposure
from safety.model import Exemption, Finding, Report, Resource, stack_environment

RULES = (hardening, pod_security, reliability, data_safety, secret_exposure, network_isolation)


def check_all(resources: Sequence[Resource], environment: str | None = None) -> list[Report]:
    environment = environment or stack_environment(resources)
    return [rule.check(resources, environment) for rule in RULES]


__all__ = ["RULES", "Exemption", "Finding", "Report", "Resource", "check_all", "stack_environment"]
