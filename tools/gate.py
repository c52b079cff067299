"""The safety gate over a recorded stack: every rule of policy/safety, with a summary.

`make validate` prints the summary; the test suite asserts that every stack passes.
"""

from __future__ import annotations

import sys

from tools.recording import ROOT, Recording

# The rules live in the policy pack's folder so the pack can be published on its own.
sys.path.insert(0, str(ROOT / "policy"))

from safety import Report, Resource, check_all  # noqa: E402


def resources_of(recording: Recording) -> list[Resource]:
    """The recorded custom resources, as the safety rules see them."""
    return [
        Resource(
            type=r.type,
            name=r.name,
            props=r.inputs,
            urn=r.urn,
            protect=r.protect,
            retain_on_delete=r.retain_on_delete,
            delete_before_replace=r.delete_before_replace,
            replace_on_changes=tuple(r.replace_on_changes),
        )
        for r in recording.resources
        if r.custom
    ]


def run_gate(recording: Recording) -> list[Report]:
    return check_all(resources_of(recording))


def summary(reports: list[Report]) -> str:
    lines = []
    for report in reports:
        status = "ok  " if report.passed else "FAIL"
        lines.append(
            f"{status} {report.rule:<17} checked {report.checked:3d}, "
            f"failed {len(report.violations)}, skipped {len(report.exemptions)}"
            + (f", warnings {len(report.warnings)}" if report.warnings else "")
            + f"  ({report.title})"
        )
        for finding in report.violations:
            lines.append(f"       FAIL {finding}")
        for finding in report.warnings:
            lines.append(f"       warn {finding}")
        for exemption in report.exemptions:
            lines.append(f"       skip {exemption.resource}: {exemption.what} -- {exemption.reason}")
    return "\n".join(lines)
