"""The wheel installs one top-level package, ``mechbench``, holding the rooms (``hatch_build.py``).

The rewrite itself is checked on small sources (``hatch_build.py`` loaded with a stand-in for hatchling,
which only the build environment has). Then the wheel is built with ``uv build --wheel`` (hatchling comes
from the package registry or uv's cache), read as an archive, and installed with ``--no-deps`` into a fresh
virtual environment. Modules that need the third-party dependencies are imported with this project's
``.venv`` site-packages appended after the wheel's (a ``.pth`` line, so the editable install's own ``.pth``,
which would put the checkout on ``sys.path``, is not read), from a directory outside the checkout that holds
a user's own ``shared`` package as a decoy. Last, a full install (the locked dependencies, offline from
uv's cache) runs a script in the sandbox and a heavy job in the fork server, and replays the committed
workflow histories. About 30 s in all.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import types
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("shared", "engines", "runtime", "activities", "workflows", "workers")
NAMED = re.compile(rf"(?<![\w.])({'|'.join(ROOMS)})\.[A-Za-z_]")
UV = next((str(p) for p in (ROOT / ".tools/bin/uv", shutil.which("uv")) if p and Path(p).is_file()), None)


# ================================================================================================
# The rewrite, on small sources
# ================================================================================================


@pytest.fixture(scope="module")
def hook() -> types.ModuleType:
    """``hatch_build.py`` as a module, with a stand-in for the hatchling class it subclasses."""
    stub = types.ModuleType("hatchling.builders.hooks.plugin.interface")
    stub.BuildHookInterface = object  # type: ignore[attr-defined]
    saved = sys.modules.get(stub.__name__)
    sys.modules[stub.__name__] = stub
    try:
        spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del sys.modules[stub.__name__]
        else:
            sys.modules[stub.__name__] = saved
    return module


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import shared\n", "import mechbench.shared as shared\n"),
        ("import shared.x\n", "import mechbench.shared.x; from mechbench import shared\n"),
        ("import shared.x as y\n", "import mechbench.shared.x as y\n"),
        (
            "import os, engines.cad as c, workers  # note\n",
            "import os, mechbench.engines.cad as c, mechbench.workers as workers  # note\n",
        ),
        (
            "import shared.a, engines.b, shared.c\n",
            (
                "import mechbench.shared.a, mechbench.engines.b, mechbench.shared.c;"
                " from mechbench import shared; from mechbench import engines\n"
            ),
        ),
        ("from shared.models import (\n    A,\n)\n", "from mechbench.shared.models import (\n    A,\n)\n"),
        ("from workers import cli\n", "from mechbench.workers import cli\n"),
        ("from \\\n    runtime.jobs import x\n", "from \\\n    mechbench.runtime.jobs import x\n"),
        (
            "def f():\n    if 1: import engines.cad.export\n",
            "def f():\n    if 1: import mechbench.engines.cad.export; from mechbench import engines\n",
        ),
        # Not room imports: relative imports, look-alike names, strings, comments, docstrings.
        ("from . import shared\nfrom .shared import x\n", None),
        ("import shared_utils\nfrom sharedx import y\nimport mechbench.shared\n", None),
        ('"""from shared import x"""\n# import shared\nX = "import shared"\n', None),
    ],
)
def test_imports_move_under_mechbench(hook: types.ModuleType, source: str, expected: str | None) -> None:
    out = hook.rewrite_imports(source.encode(), "case.py").decode()
    assert out == (expected if expected is not None else source)
    assert len(out.splitlines()) == len(source.splitlines())


def test_rewritten_imports_bind_the_same_names(hook: types.ModuleType, tmp_path: Path) -> None:
    """Run against a stand-in ``mechbench`` package: each statement binds what it bound before."""
    for module in ("", "/shared", "/shared/x", "/engines", "/engines/cad"):
        (tmp_path / f"mechbench{module}").mkdir(parents=True, exist_ok=True)
        (tmp_path / f"mechbench{module}/__init__.py").write_text(f"WHERE = {module!r}\n")
    source = "import shared.x\nimport engines.cad as c\nfrom shared.x import WHERE\nimport engines\n"
    code = hook.rewrite_imports(source.encode(), "case.py").decode()
    shown = "ns['shared'].x.WHERE, ns['c'].WHERE, ns['WHERE'], ns['engines'].WHERE"
    script = f"ns = {{}}\nexec({code!r}, ns)\nprint({shown})"
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n{script}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["/shared/x", "/engines/cad", "/shared/x", "/engines"], done.stderr


def test_module_name_strings_are_listed_and_rewritten(hook: types.ModuleType) -> None:
    source = b'"""See runtime.jobs."""\nENGINE = "runtime.jobs.generation:build_job"\n'
    with pytest.raises(ValueError, match="update STRINGS"):
        hook.rewrite_module(source, "runtime/new.py")
    assert hook.rewrite_module(b'x = "runtime.forkserver"\n', "runtime/supervisor.py") == (
        b'x = "mechbench.runtime.forkserver"\n'
    )
    with pytest.raises(ValueError, match="one plain literal"):
        hook.rewrite_module(b'x = "runtime." "forkserver"\n', "runtime/supervisor.py")
    assert hook.qualify("workers.cli:main") == "mechbench.workers.cli:main"
    assert hook.qualify("workers_x:main") == "workers_x:main"


# ================================================================================================
# The wheel, as an archive
# ================================================================================================


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if UV is None:
        pytest.skip("uv is not installed (make install bootstraps .tools/bin/uv)")
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [UV, "build", "--wheel", "--out-dir", str(out), str(ROOT)],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("mechbench-*.whl")
    return built


def _tracked(*rooms: str) -> list[str]:
    done = subprocess.run(["git", "ls-files", *rooms], cwd=ROOT, capture_output=True, text=True, check=True)
    return [p for p in done.stdout.splitlines() if (ROOT / p).is_file()]


def test_the_wheel_holds_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - dist_info == {"mechbench"} and len(dist_info) == 1, sorted(tops)
    assert not [n for n in names if n.split("/")[0] in ROOMS]
    assert "mechbench/__init__.py" in names
    missing = [p for p in _tracked(*ROOMS) if f"mechbench/{p}" not in names]
    assert not missing, f"files of the rooms missing from the wheel: {missing}"


def test_data_files_ship_unchanged(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    data = [p for p in _tracked(*ROOMS) if not p.endswith(".py")]
    assert any(p.startswith("shared/data/") for p in data) and any("/methods/" in p for p in data)
    for path in data:
        assert archive.read(f"mechbench/{path}") == (ROOT / path).read_bytes(), path


def test_every_module_compiles_and_names_no_top_level_room(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    wrong = []
    for name in (n for n in archive.namelist() if n.endswith(".py")):
        text = archive.read(name).decode()
        tree = ast.parse(text, name)
        compile(tree, name, "exec", dont_inherit=True)
        bare = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                wrong += [f"{name}: import {a.name}" for a in node.names if a.name.split(".")[0] in ROOMS]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                wrong += [f"{name}: from {node.module}"] if node.module.split(".")[0] in ROOMS else []
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare:
                wrong += [f"{name}: {node.value!r}"] if NAMED.search(node.value) else []
        source = ROOT / name.removeprefix("mechbench/")
        source = source if source.is_file() else ROOT / name
        if len(text.splitlines()) != len(source.read_text(encoding="utf-8").splitlines()):
            wrong.append(f"{name}: not as many lines as {source.relative_to(ROOT)}")
    assert not wrong, "\n".join(wrong)


def test_the_console_script_names_the_package(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    lines = archive.read(entry_points).decode().splitlines()
    assert "mechbench = mechbench.workers.cli:main" in lines, lines


# ================================================================================================
# The wheel, installed
# ================================================================================================


@dataclass(frozen=True)
class Installed:
    python: str
    bin: Path
    site: Path
    user: Path
    """A user's project directory outside the checkout, with a ``shared`` package of its own."""

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            args, cwd=self.user, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )


def _install(wheel: Path, base: Path) -> Installed:
    """The wheel alone (``--no-deps``) in a fresh virtual environment, and a user's project beside it."""
    venv = base / "venv"
    for command in (
        [UV, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [UV, "pip", "install", "--quiet", "--no-deps", "--python", str(venv / "bin/python"), str(wheel)],
    ):
        done = subprocess.run(command, cwd=base, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    site = next((venv / "lib").glob("python*/site-packages"))
    user = base / "user-project"
    (user / "shared").mkdir(parents=True)
    (user / "shared/__init__.py").write_text("DECOY = 'the user'\n")
    (user / "shared/models.py").write_text("DECOY = 'the user'\n")
    return Installed(str(venv / "bin/python"), venv / "bin", site, user)


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return _install(wheel, tmp_path_factory.mktemp("installed"))


def test_site_packages_gets_only_mechbench(installed: Installed) -> None:
    assert not [p.name for p in installed.site.iterdir() if p.name in ROOMS]
    assert (installed.site / "mechbench/shared/models/__init__.py").is_file()
    script = textwrap.dedent(
        f"""
        import importlib.util, sys
        import shared, shared.models
        assert shared.DECOY == shared.models.DECOY == "the user", shared.__file__
        spec = importlib.util.find_spec("mechbench.shared.models")
        assert spec.origin.startswith({str(installed.site)!r}), spec.origin
        try:
            import mechbench.shared.models
        except ModuleNotFoundError as e:
            assert e.name == "pydantic", e  # no dependencies here: only the decoy could have served it
        assert sys.modules["shared"] is shared and sys.modules["shared.models"].DECOY == "the user"
        print("ok")
        """
    )
    done = installed.run(installed.python, "-c", script)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr


@pytest.fixture(scope="module")
def with_dependencies(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Another such install, with this project's .venv site-packages appended after its own: the
    third-party packages resolve, the checkout is not on ``sys.path`` (the editable ``.pth`` is not read)."""
    found = _install(wheel, tmp_path_factory.mktemp("with-dependencies"))
    deps = Path(sysconfig.get_paths()["purelib"])
    assert deps != found.site
    (found.site / "zz_mechbench_test_dependencies.pth").write_text(f"{deps}\n")
    return found


def test_the_installed_package_imports_beside_a_users_shared(with_dependencies: Installed) -> None:
    script = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        ROOMS, SITE = {ROOMS!r}, {str(with_dependencies.site)!r}
        CHECKOUT = tuple(f"{{p}}/" for p in {[str(ROOT / r) for r in (*ROOMS, "mechbench")]!r})
        assert {str(ROOT)!r} not in [p.rstrip("/") for p in sys.path], sys.path
        import shared
        import mechbench.shared.models
        import mechbench.workers.cli
        import mechbench.shared.heavy as heavy
        assert mechbench.shared.models.__file__.startswith(SITE)
        for spec in heavy.HEAVY_JOBS:
            module, _, name = spec.engine.partition(":")
            assert module.startswith("mechbench.runtime."), spec.engine
            assert callable(getattr(importlib.import_module(module), name)), spec.engine
        failed = []
        for info in pkgutil.walk_packages(mechbench.__path__, "mechbench.", onerror=failed.append):
            if not info.name.endswith(".__main__"):  # a __main__ runs the CLI
                try:
                    importlib.import_module(info.name)
                except Exception as e:
                    failed.append(f"{{info.name}}: {{type(e).__name__}}: {{e}}")
        assert not failed, failed
        leaked = sorted(n for n in sys.modules if n.split(".")[0] in ROOMS and n != "shared")
        assert not leaked and shared.DECOY == "the user", leaked
        files = {{n: getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items())}}
        from_checkout = [n for n, f in files.items() if f.startswith(CHECKOUT)]
        assert not from_checkout, from_checkout
        print(len([n for n in sys.modules if n.startswith("mechbench.")]), "modules")
        """
    )
    done = with_dependencies.run(with_dependencies.python, "-c", script)
    assert done.returncode == 0 and done.stdout.strip().endswith("modules"), done.stdout + done.stderr


def test_the_cli_runs_from_the_wheel(with_dependencies: Installed) -> None:
    for command in (
        [str(with_dependencies.bin / "mechbench")],
        [with_dependencies.python, "-m", "mechbench.workers.cli"],
    ):
        done = with_dependencies.run(*command, "--help")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Usage" in done.stdout and "mechbench" in done.stdout, done.stdout


@pytest.fixture(scope="module")
def full_install(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel with the locked dependencies, offline from uv's cache (hard links: about a second). The
    sandbox needs this: it lets a confined child read its own installation only, not this project's .venv."""
    base = tmp_path_factory.mktemp("full")
    venv, requirements = base / "venv", base / "requirements.txt"
    export = [UV, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet"]
    for command in (
        [*export, "--output-file", str(requirements)],
        [UV, "venv", "--quiet", "--python", sys.executable, str(venv)],
    ):
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    python = str(venv / "bin/python")
    install = [UV, "pip", "install", "--offline", "--quiet", "--no-deps", "--python", python]
    done = subprocess.run(
        [*install, "-r", str(requirements), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(
            f"the locked dependencies are not all in uv's cache (run make install): {done.stderr[-300:]}"
        )
    user = base / "user-project"
    (user / "data").mkdir(parents=True)
    return Installed(python, venv / "bin", next((venv / "lib").glob("python*/site-packages")), user)


def test_subprocesses_start_by_their_packaged_names(full_install: Installed) -> None:
    """A script in the sandbox (``-m mechbench.runtime.sandbox_child``, confined to the installation) and a
    heavy job through the fork server (``-m mechbench.runtime.forkserver``, the registry's engine paths)."""
    script = textwrap.dedent(
        """
        import asyncio
        from mechbench.runtime.confine import landlock_abi
        from mechbench.runtime.sandbox import run_script
        from mechbench.runtime.supervisor import HeavySupervisor
        from mechbench.shared.heavy import DiagnoseRequest, DiagnoseResult
        from mechbench.shared.settings import Settings

        SCRIPT = '''
        import importlib.util, sys
        from build123d import Box
        def build():
            print("as", sys.modules["__main__"].__spec__.name, "shared:", importlib.util.find_spec("shared"))
            return Box(1, 2, 3)
        '''
        result = run_script(SCRIPT, require_confinement=landlock_abi() > 0)
        assert result.data.startswith(b"ISO-10303-21;"), result
        assert "as mechbench.runtime.sandbox_child shared: None" in result.output_tail, result.output_tail


        async def job():
            supervisor = HeavySupervisor(Settings(data_dir="data", store="local", part_roots=["data"]))
            await supervisor.start()
            try:
                return await supervisor.run("diagnose", DiagnoseRequest(action="echo"), DiagnoseResult, print)
            finally:
                await supervisor.close()


        print("job ran in", asyncio.run(job()).pid)
        """
    )
    done = full_install.run(full_install.python, "-c", script)
    assert done.returncode == 0 and "job ran in" in done.stdout, done.stdout + done.stderr


def test_committed_histories_replay_from_the_wheel(full_install: Installed) -> None:
    """Temporal's workflow sandbox re-imports the workflows by their packaged names; the histories replay.
    (When ``tests/replay`` fails as well, the workflow code changed, not the packaging.)"""
    script = textwrap.dedent(
        f"""
        import asyncio, pathlib
        from temporalio.client import WorkflowHistory
        from temporalio.worker import Replayer
        from mechbench.shared.temporal import DATA_CONVERTER
        from mechbench.workers.worker import INTERCEPTORS, WORKFLOWS


        async def replay():
            replayer = Replayer(workflows=WORKFLOWS, interceptors=INTERCEPTORS, data_converter=DATA_CONVERTER)
            paths = sorted(pathlib.Path({str(ROOT / "tests/replay/histories")!r}).glob("*.json"))
            for path in paths:
                history = WorkflowHistory.from_json(path.stem.rsplit("-run", 1)[0], path.read_text())
                await replayer.replay_workflow(history)
            return len(paths)


        print("replayed", asyncio.run(replay()))
        """
    )
    done = full_install.run(full_install.python, "-c", script)
    assert done.returncode == 0 and "replayed" in done.stdout, done.stdout + done.stderr
    assert int(done.stdout.split()[-1]) > 0
