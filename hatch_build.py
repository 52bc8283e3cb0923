"""Hatchling build hook: the wheel installs one top-level package, ``mechbench``, with the rooms inside it.

Why: in the repository the rooms (``shared``, ``engines``, ``runtime``, ``activities``, ``workflows``,
``workers``) are top-level folders and the code imports them by those names (``from shared.models import
...``). Shipped as they are, they would be top-level packages in site-packages, and a user's own ``shared``
or ``workers`` would clash with them. The checkout keeps its layout: the editable install (``uv sync``)
puts the repository root on ``sys.path`` (``dev-mode-dirs``) and this hook does nothing for it.

How: for the wheel (``version == "standard"``) the hook copies each room and the ``mechbench/`` folder
into a temporary tree as ``mechbench/<room>/...`` and force-includes that tree (the wheel's own file
selection is bypassed). Data files (the TOML catalogues and method tables, anything not ``.py``) are
copied byte for byte. Each ``.py`` file is rewritten in place on its own lines, so tracebacks keep their
line numbers:

1. Imports, found with ``ast`` (never in strings or comments) and edited at their byte offsets:
   ``from shared.x import y`` -> ``from mechbench.shared.x import y``; ``import shared`` -> ``import
   mechbench.shared as shared``; ``import shared.x as y`` -> ``import mechbench.shared.x as y``; ``import
   shared.x`` -> ``import mechbench.shared.x; from mechbench import shared`` (it binds the same name).
2. String constants (docstrings aside) that name a room module: the heavy jobs' engine paths, ``-m``
   module names, logger names, the Gymnasium entry point. Every such string gets the prefix, and the set
   found must equal :data:`STRINGS`: a new one fails the build until someone has looked at it.
3. :data:`PATCHES`: code that derives a path from the package layout (the sandbox's ``PYTHONPATH``).

Each result must compile and name no top-level room; the console scripts get the prefix too
(``mechbench.workers.cli:main``). ``tests/engine/test_wheel.py`` checks all of it.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "mechbench"
ROOMS = ("shared", "engines", "runtime", "activities", "workflows", "workers")
NAMED = re.compile(rf"(?<![\w.])({'|'.join(ROOMS)})(?=\.[A-Za-z_])")
"""A room module named inside a string: ``runtime.jobs``, ``-m shared.process``, ``workers.gym_env:X``."""
REF = re.compile(rf"^({'|'.join(ROOMS)})(?=[.:]|$)")
"""An entry point's object reference that starts with a room."""
FROM = re.compile(rb"from(?:\s|\\)+")

STRINGS: dict[str, set[str]] = {
    "shared/heavy.py": {  # the heavy jobs' engine functions
        *(f"runtime.jobs.generation:{job}" for job in ("build_job", "simulate_job")),
        *(f"runtime.jobs.analysis:{job}" for job in ("facts_job", "part_script_job")),
        *(f"runtime.jobs.evaluation:{job}" for job in ("build_design_job", "evidence_job")),
        *(f"runtime.jobs.certify:{job}" for job in ("random_job", "robust_job")),
        "runtime.jobs.diagnose:diagnose_job",
    },
    "shared/process.py": {"usage: python -m shared.process CMD [ARGS...]"},
    "runtime/forkserver.py": {"runtime.jobs"},
    "runtime/sandbox_launch.py": {"runtime.sandbox_child", "runtime.sandbox"},
    "runtime/sandbox_zygote.py": {"runtime.sandbox_zygote"},
    "runtime/supervisor.py": {"runtime.forkserver"},
    "workers/devstack.py": {"shared.process"},
    "workers/gym_env.py": {"workers.gym_env:DesignEnv"},
}
"""Every string constant, by file, that names a room module (grep-verified; the build checks it)."""

PATCHES: dict[str, list[tuple[str, str]]] = {
    # The sandbox child's PYTHONPATH is the folder holding the top-level package: one level up in the wheel.
    "runtime/sandbox_launch.py": [
        ("Path(runtime.__file__).resolve().parent.parent", "Path(runtime.__file__).resolve().parents[2]")
    ],
}


def _room(name: str | None) -> str | None:
    top = (name or "").split(".")[0]
    return top if top in ROOMS else None


def _strings(tree: ast.AST) -> set[str]:
    """The string constants, docstrings and bare string statements aside, that name a room module."""
    bare = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    return {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and id(n) not in bare
        and NAMED.search(n.value)
    }


def _room_imports(tree: ast.AST) -> list[str]:
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module]
    return [name for name in names if _room(name)]


def rewrite_imports(source: bytes, filename: str) -> bytes:
    """``source`` with every absolute import of a room moved under :data:`PACKAGE` (see the docstring)."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    edits: list[tuple[int, int, bytes]] = []  # (offset, rank, text): at one offset, rank 0 goes first
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (room := _room(node.module)):
            found = FROM.match(source, starts[node.lineno - 1] + node.col_offset)
            if not (found and source.startswith(room.encode(), found.end())):
                raise ValueError(f"{filename}:{node.lineno}: cannot find the module name of this import")
            edits.append((found.end(), 0, f"{PACKAGE}.".encode()))
        elif isinstance(node, ast.Import):
            bound = []
            for alias in node.names:
                if not (room := _room(alias.name)):
                    continue
                edits.append((starts[alias.lineno - 1] + alias.col_offset, 0, f"{PACKAGE}.".encode()))
                if alias.asname is None and "." in alias.name:
                    bound.append(room)
                elif alias.asname is None:
                    end = starts[alias.end_lineno - 1] + alias.end_col_offset
                    edits.append((end, 0, f" as {room}".encode()))
            binds = "".join(f"; from {PACKAGE} import {r}" for r in dict.fromkeys(bound)).encode()
            edits += [(starts[node.end_lineno - 1] + node.end_col_offset, 1, binds)] if binds else []
    for offset, _, text in sorted(edits, reverse=True):
        source = source[:offset] + text + source[offset:]
    return source


def rewrite_module(source: bytes, relative: str) -> bytes:
    """A room module as the wheel ships it; ``ValueError`` when the result would not be right."""
    text = rewrite_imports(source, relative).decode("utf-8")
    for old, new in PATCHES.get(relative, []):
        if text.count(old) != 1:
            raise ValueError(f"{relative}: the patch {old!r} matches {text.count(old)} times, not once")
        text = text.replace(old, new)
    found = _strings(ast.parse(text, relative))
    if found != STRINGS.get(relative, set()):
        raise ValueError(
            f"{relative}: the strings that name a room module are {sorted(found)}, but STRINGS in "
            f"hatch_build.py lists {sorted(STRINGS.get(relative, set()))}: check each, then update STRINGS"
        )
    for value in found:
        new = NAMED.sub(rf"{PACKAGE}.\1", value)
        quoted = [(f"{q}{value}{q}", f"{q}{new}{q}") for q in "\"'"]
        if not any(old in text for old, _ in quoted):
            raise ValueError(f"{relative}: {value!r} is not written as one plain literal; cannot rewrite it")
        for old, replacement in quoted:
            text = text.replace(old, replacement)
    tree = ast.parse(text, relative)
    left = _room_imports(tree) + sorted(_strings(tree))
    if left:
        raise ValueError(f"{relative}: still names top-level rooms after the rewrite: {left}")
    compile(tree, relative, "exec", dont_inherit=True)
    return text.encode("utf-8")


def rewrite_tree(root: Path, target: Path) -> list[str]:
    """Copy the rooms and ``mechbench/`` from ``root`` to ``target/mechbench/``; the files read."""
    written = []
    for top in (PACKAGE, *ROOMS):
        for here, dirs, files in os.walk(root / top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(f for f in files if not f.endswith((".pyc", ".pyo"))):
                relative = (Path(here) / name).relative_to(root).as_posix()
                inside = relative if top != PACKAGE else relative.removeprefix(f"{PACKAGE}/")
                if top == PACKAGE and inside.split("/")[0] in ROOMS:
                    raise ValueError(f"{relative}: mechbench/ may not hold a folder named after a room")
                data = (root / relative).read_bytes()
                out = target / PACKAGE / inside
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(rewrite_module(data, relative) if name.endswith(".py") else data)
                written.append(relative)
    if missing := sorted((set(STRINGS) | set(PATCHES)) - set(written)):
        raise ValueError(f"STRINGS or PATCHES in hatch_build.py name files that are gone: {missing}")
    return written


def qualify(ref: str) -> str:
    """An entry point's reference as the wheel names it (``workers.x:f`` -> ``mechbench.workers.x:f``)."""
    return REF.sub(rf"{PACKAGE}.\1", ref)


class RoomsUnderOnePackage(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return  # the editable install keeps the checkout's layout
        self._tmp = tempfile.mkdtemp(prefix="mechbench-wheel-")
        try:
            rewrite_tree(Path(self.root), Path(self._tmp))
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        build_data["force_include"][str(Path(self._tmp) / PACKAGE)] = PACKAGE
        core = self.metadata.core
        for table in (core.scripts, core.gui_scripts, *core.entry_points.values()):
            table.update({name: qualify(ref) for name, ref in table.items()})

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if getattr(self, "_tmp", None):
            shutil.rmtree(self._tmp, ignore_errors=True)
