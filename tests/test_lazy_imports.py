"""What a stack does not use, its program does not import (a behaviour, not a timing).

pulumi_docker is a large SDK that only an `app.build` needs; a stack that runs a
pinned image must not pay for importing it (`make bench` shows what it costs).
"""

from __future__ import annotations

import json
import subprocess
import sys

from tools.recording import ROOT
from tools.stacks import config_for, stack_names

REPORT_MODULES = (
    "import json, sys; from tools import render\n"
    "for stack in sys.argv[1:]: render.render(stack)\n"
    "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'pulumi_docker')))"
)


def stacks_without_a_build() -> list[str]:
    return [s for s in stack_names() if "build" not in json.loads(config_for(s)[0].get("shipyard:app", "{}"))]


def test_a_stack_without_a_build_does_not_import_pulumi_docker():
    stacks = stacks_without_a_build()
    assert stacks, "no stack runs a pinned image; this test would prove nothing"
    result = subprocess.run([sys.executable, "-c", REPORT_MODULES, *stacks], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [], f"{stacks} imported pulumi_docker"
