"""tools/cluster: `down.sh` removes every file `up.sh` writes into the cluster's state.

A file left behind outlives the cluster it describes: a kept digest of the add-on CRDs
made the next cluster skip installing them.
"""

from __future__ import annotations

import re

from tools.recording import ROOT

CLUSTER = ROOT / "tools" / "cluster"


def written_by_up() -> set[str]:
    return set(re.findall(r'>>? "\$STATE/([A-Za-z0-9._-]+)"', (CLUSTER / "up.sh").read_text()))


def removed_by_down() -> set[str]:
    wipe = re.search(r"wipe_state\(\) \{(.*?)\n\}", (CLUSTER / "lib.sh").read_text(), re.S)
    assert wipe, "wipe_state not found in tools/cluster/lib.sh"
    return set(re.findall(r'"\$STATE/([A-Za-z0-9._-]+)"', wipe.group(1)))


def test_every_state_file_up_writes_is_removed_by_down():
    written = written_by_up()
    assert {"READY", "addon-crds.sha256", "kwok-stages.yaml", "nodes-and-storage.yaml"} <= written
    assert written - removed_by_down() == set()
