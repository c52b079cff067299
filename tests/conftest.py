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


@pytest.fixture
def app() -> dict[str, Any]:
    """A fresh copy of the smallest valid app config, for a test to modify."""
    return dict(MINIMAL_APP)
