"""tools/config_docs.py: the config reference is complete and current."""

import re

from tools import config_docs


def test_docs_config_md_is_current():
    # Regenerate with `make docs` after changing a spec.
    assert config_docs.PATH.read_text() == config_docs.generate()


def test_every_key_is_described():
    rows = [line for line in config_docs.generate().splitlines() if line.startswith("| `")]
    assert rows
    undocumented = [row.split("|")[1].strip() for row in rows if row.rstrip().endswith("|  |")]
    assert undocumented == []


def row(key: str) -> list[str]:
    [line] = [line for line in config_docs.generate().splitlines() if line.startswith(f"| `{key}` |")]
    # Cells are split at pipes; a `\|` inside a cell (between choices) is not one.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_maps_are_described_by_their_value_type():
    assert row("cache.urls")[1] == "map of name to integer"
    assert row("app.env")[1] == "map of name to string"
    assert row("secrets.values")[1] == "map of name to secret string"
    assert row("app.probeHeaders")[1] == "map of name to string"


def test_namespace_description_says_a_stack_named_like_the_app_is_not_doubled():
    description = row("namespace")[3]
    assert "<app.name>-<stack>" in description
    assert "starts with <app.name>-" in description


def test_preloading_follows_extensions_in_the_docs():
    assert "shared_preload_libraries" in row("database.extensions")[3]
    assert "`extensions`" in row("database.tuning.shared_preload_libraries")[3]


def test_probe_paths_say_they_must_not_need_credentials():
    for key in ("app.healthPath", "app.readinessPath"):
        assert "no credentials" in row(key)[3], key
    assert "startup and liveness" in row("app.healthPath")[3]
    assert "may check dependencies" in row("app.readinessPath")[3]
