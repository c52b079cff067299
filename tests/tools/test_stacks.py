"""tools/stacks.py: a stack file that is not valid YAML, or not shaped like one, is a config error."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack_config import ConfigError
from tools.stacks import config_for

# The `port` line is indented one space less than its siblings.
BAD_INDENT = """\
config:
  shipyard:app:
    name: shop
    image: registry.example.com/shop:2.0.1
   port: 5000
"""


def problems_of(stacks_dir: Path, text: str) -> list[str]:
    (stacks_dir / "Pulumi.broken.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        config_for("broken")
    return caught.value.problems


def test_yaml_syntax_error_names_the_file_line_and_column(stacks_dir):
    [problem] = problems_of(stacks_dir, BAD_INDENT)
    assert problem.startswith("Pulumi.broken.yaml, line 5, column 4: not valid YAML:")
    assert "expected <block end>" in problem
    assert "\n" not in problem


def test_config_that_is_not_a_mapping_is_an_error(stacks_dir):
    assert problems_of(stacks_dir, "config:\n  - shipyard:app\n") == [
        "Pulumi.broken.yaml: config must be a mapping of `namespace:key: value`, not a list"
    ]


def test_a_file_that_is_not_a_mapping_is_an_error(stacks_dir):
    assert problems_of(stacks_dir, "- config\n") == [
        "Pulumi.broken.yaml: must be a mapping with a `config:` key, not a list"
    ]


def test_config_keys_must_be_text(stacks_dir):
    assert problems_of(stacks_dir, "config:\n  1: 2\n") == [
        "Pulumi.broken.yaml: config key 1 is not a `namespace:key` name"
    ]


def test_a_valid_stack_file_is_read(stacks_dir):
    (stacks_dir / "Pulumi.ok.yaml").write_text(BAD_INDENT.replace("   port", "    port"))
    config, _ = config_for("ok")
    assert '"port": 5000' in config["shipyard:app"]


def test_an_empty_stack_file_means_only_defaults(stacks_dir):
    (stacks_dir / "Pulumi.empty.yaml").write_text("")
    config, _ = config_for("empty")
    assert config["shipyard:environment"] == "development"
