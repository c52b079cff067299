"""Shared test helpers: the recording mock, and stacks built from config in a test."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The safety rules live in the policy pack's folder (they are published with it).
sys.path.insert(0, str(ROOT / "policy"))
# An f-string over an Output raises instead of quietly printing a warning text.
os.environ["PULUMI_ERROR_OUTPUT_STRING"] = "true"

from tools.recording import Recording, run_program  # noqa: E402
from tools.stacks import config_from  # noqa: E402

MINIMAL_APP = {"name": "shop", "image": "registry.example.com/shop:2.0.1"}


def run_stack(
    stack: str = "test", *, app: dict[str, Any] | None = None, **top_level: Any
) -> Recording:
    """Run the real program with config given as stack-file values (unprefixed keys)."""
    values = {"shipyard:app": MINIMAL_APP if app is None else app}
    values.update({f"shipyard:{k}": v for k, v in top_level.items()})
    config, secret_keys = config_from(values)
    return run_program(stack, config, secret_keys=secret_keys)


def run_components(build: Callable[[], object]) -> Recording:
    """Run a program that only builds the given components, without any stack config."""
    return run_program("test", {}, program=build)


def containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return manifest["spec"]["template"]["spec"]["containers"]


def steps(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """A workload's init containers, then its containers: the order its pod runs them in."""
    spec = manifest["spec"]["template"]["spec"]
    return [*(spec.get("initContainers") or []), *spec["containers"]]


def step(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [c for c in steps(manifest) if c["name"] == name]
    return found


@pytest.fixture
def app() -> dict[str, Any]:
    """A fresh copy of the smallest valid app config, for a test to modify."""
    return dict(MINIMAL_APP)


# Real servers: a test marked `needs_postgres` & co. fails when its server is missing,
# unless the user opted out (SHIPYARD_SKIP_REAL_SERVERS=1); see tests/servers.py.
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from tests import servers

    for mark in item.iter_markers("real_server"):
        servers.require(*mark.args)


# In CI (CI=true, as .ci/run and GitHub Actions set it) nothing may be skipped: a skip
# there means a check silently did not run. Each skip is reported as a failure, with
# the reason it was skipped.
def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skip outside a test (a whole module skipped at collection) fails CI as well."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if _in_ci() and skipped and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        reporter.write_line(f"CI: {len(skipped)} skipped; every test must run in CI", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
