"""tools/ensure-servers.sh: `make test` installs the real servers, or says how to.

Run with a PATH of stand-ins: `id` says who we are, `apt-get` records what it was
asked; redis-server and psql are not on that PATH, so they count as missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.recording import ROOT

SCRIPT = ROOT / "tools" / "ensure-servers.sh"
BASH = shutil.which("bash")


def stand_ins(tmp_path: Path, uid: int, apt: bool = True) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ls").symlink_to(shutil.which("ls"))
    (bin_dir / "id").write_text(f"#!{BASH}\necho {uid}\n")
    if apt:
        (bin_dir / "apt-get").write_text(f'#!{BASH}\necho "$*" >> {tmp_path / "apt.log"}\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def run(bin_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([BASH, str(SCRIPT)], env={"PATH": str(bin_dir), **env},
                          capture_output=True, text=True, timeout=60)


def test_root_with_apt_installs_what_is_missing(tmp_path):
    result = run(stand_ins(tmp_path, uid=0))
    assert result.returncode == 0, result.stderr
    update, install = (tmp_path / "apt.log").read_text().splitlines()
    assert update.startswith("update")
    assert install.startswith("install -y") and "redis-server" in install.split()


def test_otherwise_stops_with_the_command_to_run(tmp_path):
    result = run(stand_ins(tmp_path, uid=1000))
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y" in result.stderr
    assert "redis-server" in result.stderr
    assert "SHIPYARD_SKIP_REAL_SERVERS=1 make test" in result.stderr
    assert not (tmp_path / "apt.log").exists()


def test_without_apt_names_the_packages(tmp_path):
    result = run(stand_ins(tmp_path, uid=0, apt=False))
    assert result.returncode == 1
    assert "redis-server" in result.stderr and "SHIPYARD_SKIP_REAL_SERVERS=1" in result.stderr


@pytest.mark.parametrize("value", ["1", "true"])
def test_opting_out_installs_nothing(tmp_path, value):
    result = run(stand_ins(tmp_path, uid=0), SHIPYARD_SKIP_REAL_SERVERS=value)
    assert result.returncode == 0
    assert not (tmp_path / "apt.log").exists()
