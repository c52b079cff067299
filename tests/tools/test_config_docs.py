"""tools/config_docs.py: the config reference is complete and current."""

from tools import config_docs


def test_docs_config_md_is_current():
    # Regenerate with `make docs` after changing a spec.
    assert config_docs.PATH.read_text() == config_docs.generate()


def test_every_key_is_described():
    rows = [line for line in config_docs.generate().splitlines() if line.startswith("| `")]
    assert rows
    undocumented = [row.split("|")[1].strip() for row in rows if row.rstrip().endswith("|  |")]
    assert undocumented == []
