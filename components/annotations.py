"""Annotations that the safety rules (policy/safety) read off the objects themselves."""

from __future__ import annotations

SINGLETON = "shipyard.dev/singleton"
"""Declares, with its reason, a workload that must run as one pod."""


def checkov_skips(*skips: tuple[str, str]) -> dict[str, str]:
    """checkov's per-object skip annotations, `checkov.io/skip<N>: <CHECK>=<reason>`."""
    return {f"checkov.io/skip{n}": f"{check}={reason}" for n, (check, reason) in enumerate(skips, start=1)}
