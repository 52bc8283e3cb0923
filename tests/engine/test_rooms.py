"""The rooms stay what the layout says they are: checked by importing and by reading the source.

- **Engines are a library.** Every module under ``engines/`` imports in a fresh interpreter in which
  ``temporalio``, ``shared.settings`` and ``shared.store`` cannot be imported: no Temporal, no worker
  settings, no object store (digests and blobs come from ``shared.refs``).
- **Imports only go down.** A static scan (``ast``, so imports inside functions and under ``TYPE_CHECKING``
  count too) checks what each room may import; see :data:`FORBIDDEN` and :data:`WORKFLOW_ALLOWED`.
- **Modules stay readable.** No module outside the tests is over 600 lines, and a module over 400 lines
  says why in its module docstring. The convention: that docstring contains the words "over 400 lines"
  (any case), in the sentence that gives the reason, e.g. "Over 400 lines because ...".
- **Every reference can be opened.** No file cites a document outside the repository; :data:`CITATIONS`
  lists the forms such citations took.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ROOMS = ("shared", "engines", "runtime", "activities", "workflows", "workers", "faults", "benchmarks")
"""The top-level packages outside the tests; each is a room with its own import rule."""

MAX_LINES = 600
EXPLAIN_OVER = 400
EXPLANATION = "over 400 lines"


# ================================================================================================
# Engines import without Temporal, settings or store
# ================================================================================================

ENGINE_BLOCKED = ("temporalio", "shared.settings", "shared.store")

_IMPORT_ALL_ENGINES = textwrap.dedent(
    """
    import sys

    BLOCKED = {blocked!r}


    class Refuse:
        # Installed before anything else is imported, so no engine module can reach a blocked one.
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"{{name}} may not be imported by an engine")
            return None


    sys.meta_path.insert(0, Refuse())

    import importlib
    import pkgutil
    import traceback

    import engines

    failed = []


    def record(name):
        failed.append(f"{{name}}: {{traceback.format_exc(limit=-3)}}")


    names = [m.name for m in pkgutil.walk_packages(engines.__path__, "engines.", onerror=record)]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            record(name)
    print(f"imported {{len(names)}} engine modules")
    if failed:
        print("\\n".join(failed))
        sys.exit(1)
    """
)


def test_engines_import_without_temporal_settings_or_store() -> None:
    script = _IMPORT_ALL_ENGINES.format(blocked=ENGINE_BLOCKED)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "imported" in done.stdout


HEAVY_MODULES = ("build123d", "OCP", "mujoco", "trimesh", "scipy.stats", "sklearn", "pandas", "pyarrow")
"""What only the heavy job processes (the fork server's children) need: CAD, physics, meshes, statistics."""


def test_the_main_worker_imports_no_heavy_library() -> None:
    """``--embedded`` and every worker import the main worker: a CAD or physics library imported there costs
    each start seconds (build123d alone about 2) and memory the jobs already hold in the fork server."""
    script = (
        "import sys, workers.worker, workers.cli.runner\n"
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "[]", done.stdout


# ================================================================================================
# Layers: what each room may import (static scan)
# ================================================================================================

FORBIDDEN: dict[str, tuple[str, ...]] = {
    # Engines are pure: no Temporal, no adapters, no process runtime, no worker, no fault harness, and
    # neither the worker's settings nor the object store (checked here for lazy imports as well).
    "engines": (
        "activities",
        "workflows",
        "workers",
        "runtime",
        "faults",
        "temporalio",
        "shared.settings",
        "shared.store",
    ),
    # The process runtime runs engines for the adapters; it never reaches up to them or to the worker.
    "runtime": ("activities", "workflows", "workers"),
    # Adapters call engines and the runtime; workflows call adapters by name, never the other way round.
    "activities": ("workflows", "workers"),
    # The contracts are the bottom floor: everything imports them, they import no room above.
    "shared": ("engines", "runtime", "activities", "workflows", "workers", "faults", "benchmarks"),
}

WORKFLOW_ALLOWED = ("shared", "workflows", "temporalio", "pydantic")
"""Besides the standard library, what a workflow module may import. pydantic is allowed because the
workflows' inputs and results are the pydantic models of shared.models: ``workflows._input`` parses a
workflow's JSON into them (``BaseModel``, ``ValidationError``) and ``workflows._notify`` types its payloads
with ``BaseModel``; it is already imported by every contract a workflow uses, so it adds nothing heavy."""


def _modules(room: str) -> list[tuple[str, Path]]:
    """``(dotted name, path)`` of every module of ``room``."""
    found = []
    for path in sorted((ROOT / room).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """``(line, imported module)`` of every import statement in the file, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # ``from shared import store`` imports shared.store: name the submodule when it is one.
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                is_module = (ROOT / Path(*sub.split("."))).is_dir() or (
                    ROOT / Path(*sub.split(".")).with_suffix(".py")
                ).is_file()
                found.append((node.lineno, sub if is_module else target))
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_rooms_import_only_downwards() -> None:
    wrong = []
    for room, forbidden in FORBIDDEN.items():
        for module, path in _modules(room):
            for line, name in _imports(module, path):
                if _within(name, forbidden):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_workflows_import_only_contracts_and_temporal() -> None:
    wrong = []
    for module, path in _modules("workflows"):
        for line, name in _imports(module, path):
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and not _within(name, WORKFLOW_ALLOWED):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, (
        "workflow modules import only shared, workflows, temporalio and pydantic:\n" + "\n".join(wrong)
    )


# ================================================================================================
# Module size
# ================================================================================================


def test_modules_are_small_or_say_why() -> None:
    too_long, unexplained = [], []
    for room in ROOMS:
        for _, path in _modules(room):
            if path.name.startswith("test_") or "tests" in path.relative_to(ROOT).parts:
                continue
            text = path.read_text(encoding="utf-8")
            lines = len(text.splitlines())
            where = f"{path.relative_to(ROOT)} ({lines} lines)"
            if lines > MAX_LINES:
                too_long.append(where)
            elif lines > EXPLAIN_OVER:
                docstring = ast.get_docstring(ast.parse(text)) or ""
                if EXPLANATION not in " ".join(docstring.lower().split()):
                    unexplained.append(where)
    message = []
    if too_long:
        message.append(f"modules over {MAX_LINES} lines (split them):\n  " + "\n  ".join(too_long))
    if unexplained:
        message.append(
            f'modules over {EXPLAIN_OVER} lines whose docstring does not say why ("{EXPLANATION} because'
            ' ..."):\n  ' + "\n  ".join(unexplained)
        )
    assert not message, "\n".join(message)


# ================================================================================================
# References that cannot be opened
# ================================================================================================

CITATION_FORMS = (
    r"(?-i:\bDESIGN section)",  # capitals only: "the design section of a report" is prose; MAX_DESIGN_PARTS,
    # SimulationMode.DESIGN and the Makefile's DESIGN= are no citations either
    r"\banchors \d",  # "anchors 3.2"; joint anchors ("positions, anchors and slide ranges") are fine
    r"\banchors (?:use|price)\b",
    r"\bof the anchors\b",
    r'"anchors"',  # the abbreviation's own definition
    r"\bdomain[ -]brief\b",
    r"\bresearch/",
    r"perf-baselines",
    r"manufacturing-anchors",
    r"temporal-anchors",
    r"Problemologist",
    r"\bearlier system\b",
    r"STYLE\.md",
    r"/work/shared",
)
"""The forms that citations of documents outside the repository took (matched in any case)."""
CITATIONS = re.compile("|".join(CITATION_FORMS), re.IGNORECASE)

SKIP_DIRS = {".git", ".venv", ".tools", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
"""Not the project's text: version control, the environment, tools and caches."""
SKIP_PATHS = {
    "tests/replay/histories",  # recorded workflow histories: bytes that must replay unchanged
    "uv.lock",
    "data",  # the embedded store and other outputs (.gitignore): what runs wrote, not what we wrote
    "build",
    "dist",
    "bench-results",
    "bench-results.json",
    "test-artifacts",
    "faults-report.json",
    "tests/engine/test_rooms.py",  # this file spells the forms out to find them
}


def _project_files() -> list[Path]:
    found = []
    for here, dirs, files in os.walk(ROOT):
        rel = Path(here).relative_to(ROOT)
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIP_DIRS and not d.endswith(".egg-info") and (rel / d).as_posix() not in SKIP_PATHS
        ]
        found.extend(Path(here) / f for f in files if (rel / f).as_posix() not in SKIP_PATHS)
    return sorted(found)


def test_no_citation_of_documents_outside_the_repository() -> None:
    cited = []
    for path in _project_files():
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary: pictures, archives
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if found := CITATIONS.search(line):
                cited.append(f"{path.relative_to(ROOT)}:{number}: {found.group(0)!r} in {line.strip()[:100]}")
    assert not cited, f"{len(cited)} citations of documents outside the repository:\n" + "\n".join(cited)
