"""Private temporary directories that outlive a SIGKILLed owner are swept by the next owner."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from shared.process import private_tempdir, remove_tree, sweep_stale_tempdirs

PREFIX = "mechbench-test-"


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_private_tempdir_names_its_owner_and_is_private(tmp_path: Path) -> None:
    d = private_tempdir(PREFIX, tmp_path)
    assert d.parent == tmp_path and d.name.startswith(f"{PREFIX}{os.getpid()}-")
    assert d.stat().st_mode & 0o777 == 0o700


def test_sweep_removes_only_directories_of_dead_owners(tmp_path: Path) -> None:
    stale = tmp_path / f"{PREFIX}{_dead_pid()}-abc"
    (stale / "deep" / "er").mkdir(parents=True)
    (stale / "deep" / "er" / "f").write_bytes(b"x")
    live = private_tempdir(PREFIX, tmp_path)
    odd = tmp_path / f"{PREFIX}notapid-x"
    odd.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / f"{PREFIX}{_dead_pid()}-link"
    link.symlink_to(target)
    other = tmp_path / f"other-{_dead_pid()}-x"
    other.mkdir()

    assert sweep_stale_tempdirs(PREFIX, tmp_path) == 1
    assert not stale.exists()
    assert live.exists() and odd.exists() and link.is_symlink() and target.exists() and other.exists()


def test_remove_tree_copes_with_missing_and_very_deep_trees(tmp_path: Path) -> None:
    remove_tree(tmp_path / "missing")
    deep = tmp_path / "deep"
    deep.mkdir()
    path = str(deep)
    for _ in range(1100):  # deeper than shutil.rmtree's (and os.makedirs') recursion allows
        path += "/d"
        os.mkdir(path)
    remove_tree(deep)
    assert not deep.exists()
