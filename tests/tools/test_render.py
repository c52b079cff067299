"""tools/render.py: a broken stack file ends `make render` / `make validate` with one message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import render
from tests.tools.test_stacks import BAD_INDENT


def run(stacks_dir: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    (stacks_dir / "Pulumi.broken.yaml").write_text(text)
    code = render.main(["broken"])
    out, err = capsys.readouterr()
    return code, out, err


def test_yaml_syntax_error_is_one_message_and_a_failing_exit(stacks_dir, capsys):
    code, out, err = run(stacks_dir, BAD_INDENT, capsys)
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0] == "error: invalid config for stack 'broken' (1 problem); nothing was deployed:"
    assert lines[1].startswith("  - Pulumi.broken.yaml, line 5, column 4: not valid YAML:")
    assert len(lines) == 2


def test_config_that_is_a_list_is_one_message_and_a_failing_exit(stacks_dir, capsys):
    code, _, err = run(stacks_dir, "config:\n  - shipyard:app\n", capsys)
    assert code == 1
    assert "Traceback" not in err
    assert "Pulumi.broken.yaml: config must be a mapping" in err


def test_a_missing_stack_file_is_named(stacks_dir, capsys):
    assert render.main(["nowhere"]) == 2
    assert "no stack file Pulumi.nowhere.yaml" in capsys.readouterr().err
