"""The Docker deployment files: closed by default (ports on 127.0.0.1, no default passwords), the server image
with a schema job, workers sized for their jobs, a parts volume. Checked statically (PyYAML and compose's own
interpolation rules, here in :func:`interpolate`), with ``docker compose config`` where a compose CLI exists,
and the namespace/search-attribute script against a real dev server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings
from shared.temporal import SEARCH_ATTRIBUTES, search_attribute_flags
from workers.devstack import temporal_binary
from workers.worker import WORKER_OVERHEAD_MB, memory_limit_mb, memory_needed_mb

yaml = pytest.importorskip("yaml")

DOCKER = Path(__file__).resolve().parents[2] / "docker"
COMPOSE = DOCKER / "compose.yaml"
CREDENTIALS = {"POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
"""Variables compose must refuse to start without: no default stands in for them."""
EXAMPLE_SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret",
    "MINIO_ROOT_USER": "mech",
    "MINIO_ROOT_PASSWORD": "s3-secret",
}

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$\$")


class MissingVariable(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ``${V}``, ``${V:-default}`` / ``${V-default}``, ``${V:?error}`` / ``${V?error}``,
    ``$$``; the forms with ``:`` treat an empty value as unset."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group("name"), m.group("op"), m.group("arg")
        value = env.get(name)
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op is not None and op.endswith("-"):
            return arg if unset else str(value)
        if op is not None and op.endswith("?"):
            if unset:
                raise MissingVariable(f"{name}: {arg}")
            return str(value)
        return value or ""

    return _VAR.sub(one, text)


def compose_with(env: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(interpolate(COMPOSE.read_text(), env))
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return compose_with(EXAMPLE_SECRETS)


def test_compose_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {
        "postgres",
        "temporal-schema",
        "temporal",
        "temporal-init",
        "temporal-ui",
        "minio",
        "worker",
    } <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["build"]["dockerfile"] == "docker/Dockerfile"
    assert (DOCKER / "Dockerfile").is_file()
    for name, service in services.items():
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and source != "./parts":
                assert (DOCKER / source).is_file(), f"{name} mounts a missing {source}"


def test_the_server_image_runs_after_a_schema_job(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert not [n for n, s in services.items() if "auto-setup" in s.get("image", "")], "no development image"
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert (
        services["temporal"]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    )
    schema = services["temporal-schema"]
    assert schema["restart"] == "no" and "setup-schema.sh" in " ".join(schema["entrypoint"])
    script = (DOCKER / "setup-schema.sh").read_text()
    for db, schema_name in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"{db}:{schema_name}" in script
    assert "update-schema --schema-name" in script and "create" in script
    # the namespace, which the server image does not create, and the search attributes come after it
    assert services["temporal-init"]["depends_on"]["temporal"]["condition"] == "service_started"
    assert "namespace create" in (DOCKER / "register-search-attributes.sh").read_text()
    assert services["worker"]["depends_on"]["temporal-init"]["condition"] == "service_completed_successfully"


def test_ports_are_published_on_loopback_unless_configured() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    published = [(n, p) for n, s in raw["services"].items() for p in s.get("ports", [])]
    assert {p.rsplit(":", 1)[1] for _, p in published} == {"7233", "8080", "9000", "9001"}
    for name, port in published:
        assert re.fullmatch(r"\$\{[A-Z_]+:-127\.0\.0\.1\}:\d+:\d+", port), f"{name} publishes {port}"
    for env, ip in (
        (EXAMPLE_SECRETS, "127.0.0.1"),
        ({**EXAMPLE_SECRETS, "PUBLISH_IP": "10.0.0.5"}, "10.0.0.5"),
    ):
        services = compose_with(env)["services"]
        assert services["temporal"]["ports"] == [f"{ip}:7233:7233"]
        assert services["minio"]["ports"][0] == f"{ip}:9000:9000"
        assert services["temporal-ui"]["ports"] == ["127.0.0.1:8080:8080"]  # consoles have their own setting


def test_compose_refuses_to_start_without_credentials() -> None:
    text = COMPOSE.read_text()
    for name in CREDENTIALS:
        uses = re.findall(r"\$\{" + name + r"(:?[-?][^}]*)?\}", text)
        assert uses and all(u.startswith(":?") for u in uses), f"{name}: {uses}"
        with pytest.raises(MissingVariable, match=name):
            interpolate(text, {k: v for k, v in EXAMPLE_SECRETS.items() if k != name})
        with pytest.raises(MissingVariable, match=name):  # an empty value is no password either
            interpolate(text, {**EXAMPLE_SECRETS, name: ""})
    for weak in ("minioadmin", "POSTGRES_PASSWORD:-", "changeme", "change-me"):
        assert weak not in text
    example = dict(
        line.split("=", 1)
        for line in (DOCKER / ".env.example").read_text().splitlines()
        if re.match(r"^\w+=", line)
    )
    assert all(example.get(name, "") == "" for name in CREDENTIALS - {"MINIO_ROOT_USER"}), (
        "no shipped password"
    )
    with pytest.raises(MissingVariable):  # .env.example copied as it is does not start either
        interpolate(text, example)


def test_worker_env_names_real_settings(compose: dict[str, Any]) -> None:
    env = compose["services"]["worker"]["environment"]
    fields = set(Settings.model_fields)
    for var in env:
        assert var.startswith("MECHBENCH_")
        assert var.removeprefix("MECHBENCH_").lower() in fields, f"{var} is not a Settings field"
    assert env["MECHBENCH_STORE"] == "s3"
    assert env["MECHBENCH_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["MECHBENCH_S3_ENDPOINT"] == "minio:9000"
    assert env["MECHBENCH_S3_ACCESS_KEY"] == EXAMPLE_SECRETS["MINIO_ROOT_USER"]


def _bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)([kmg]?)b?", size.lower())
    assert m, size
    return int(m.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2)]


def test_worker_memory_covers_every_slot_and_the_fork_server(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    env = worker["environment"]
    settings = Settings.model_validate(
        {k.removeprefix("MECHBENCH_").lower(): v for k, v in env.items() if k != "MECHBENCH_PART_ROOTS"}
    )
    limit_mb = _bytes(worker["deploy"]["resources"]["limits"]["memory"]) // 2**20
    needed = settings.worker_concurrency * settings.sandbox_memory_mb + WORKER_OVERHEAD_MB
    assert memory_needed_mb(settings) == needed and limit_mb >= needed, (limit_mb, needed)
    example = (DOCKER / ".env.example").read_text()
    concurrency = int(re.search(r"^MECHBENCH_WORKER_CONCURRENCY=(\d+)$", example, re.MULTILINE).group(1))  # type: ignore[union-attr]
    memory = re.search(r"^MECHBENCH_WORKER_MEMORY=(\S+)$", example, re.MULTILINE).group(1)  # type: ignore[union-attr]
    assert _bytes(memory) // 2**20 >= concurrency * settings.sandbox_memory_mb + WORKER_OVERHEAD_MB


def test_the_worker_reads_its_cgroup_memory_limit(tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text(f"{4 * 2**30}\n")
    assert memory_limit_mb(v2) == 4096 < memory_needed_mb(Settings(worker_concurrency=2))
    (v2 / "memory.max").write_text("max\n")
    assert memory_limit_mb(v2) is None
    v1 = tmp_path / "v1" / "memory"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1: no limit
    assert memory_limit_mb(tmp_path / "v1") is None
    assert memory_limit_mb(tmp_path / "nowhere") is None


def test_parts_volume_serves_the_readme_example(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert "./parts:/parts:ro" in worker["volumes"]
    roots = json.loads(worker["environment"]["MECHBENCH_PART_ROOTS"])
    assert roots == ["/parts"]
    readme = (DOCKER.parent / "README.md").read_text()
    example = re.search(r'"path": "(/parts/[^"]+)"', readme)
    assert example is not None and any(Path(example.group(1)).is_relative_to(r) for r in roots)
    assert (DOCKER / "parts" / ".gitignore").is_file()


def test_ui_image_is_no_older_than_the_dev_server_ui(compose: dict[str, Any]) -> None:
    version = subprocess.run(
        [temporal_binary(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"UI (\d+)\.(\d+)\.(\d+)", version)
    assert found, version
    image = compose["services"]["temporal-ui"]["image"]
    tag = re.fullmatch(r"temporalio/ui:v?(\d+)\.(\d+)\.(\d+)", image)
    assert tag, image
    assert tuple(map(int, tag.groups())) >= tuple(map(int, found.groups())), (image, version)


def test_registered_search_attributes_match_the_code() -> None:
    script = (DOCKER / "register-search-attributes.sh").read_text()
    registered = set(re.findall(r"^register (\w+) (\w+)$", script, re.MULTILINE))
    # The dev-server flags are the code's one rendering of name and type: ``--search-attribute Name=Type``.
    flags = search_attribute_flags()
    assert flags[::2] == ["--search-attribute"] * len(SEARCH_ATTRIBUTES)
    expected = {tuple(flag.split("=", 1)) for flag in flags[1::2]}
    assert {name for name, _ in expected} == {k.name for k in SEARCH_ATTRIBUTES}
    assert registered == expected


def _compose_cli() -> list[str] | None:
    for cmd in (["docker", "compose"], ["docker-compose"]):
        if (
            shutil.which(cmd[0])
            and subprocess.run([*cmd, "version"], capture_output=True, check=False).returncode == 0
        ):
            return cmd
    return None


@pytest.mark.skipif(_compose_cli() is None, reason="no docker compose CLI on this machine")
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    """Compose's own parser and interpolation: refused without credentials, loopback ports with them."""
    cli = _compose_cli()
    assert cli is not None
    # only the credentials given here: no shell variables, no docker/.env (HOME finds the compose plugin)
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", str(tmp_path))}
    config = [*cli, "-f", str(COMPOSE), "--env-file", os.devnull, "config", "--format", "json"]
    refused = subprocess.run(config, capture_output=True, text=True, env=base, check=False)
    assert (
        refused.returncode != 0 and "required variable" in refused.stderr and "docker/.env" in refused.stderr
    )
    done = subprocess.run(
        config, capture_output=True, text=True, env={**base, **EXAMPLE_SECRETS}, check=False
    )
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)["services"]
    ports = [p for s in services.values() for p in s.get("ports", [])]
    assert len(ports) == 4 and all(p["host_ip"] == "127.0.0.1" for p in ports)
    memory = int(services["worker"]["deploy"]["resources"]["limits"]["memory"])
    assert memory >= memory_needed_mb(Settings(worker_concurrency=2)) * 2**20


@pytest.mark.temporal
async def test_the_init_script_creates_the_namespace_and_its_search_attributes(temporal_env) -> None:  # type: ignore[no-untyped-def]
    """register-search-attributes.sh as the init job runs it, with the real ``temporal`` CLI, against a dev
    server and a namespace that does not exist yet; a second run changes nothing."""
    address = temporal_env.client.service_client.config.target_host
    namespace = f"init-{os.getpid()}"
    env = {
        "PATH": f"{Path(temporal_binary()).parent}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
        "TEMPORAL_RETENTION": "24h",
    }
    script = str(DOCKER / "register-search-attributes.sh")
    first = await asyncio.to_thread(
        subprocess.run, ["sh", script], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"namespace {namespace} created" in first.stdout
    listed = subprocess.run(  # noqa: ASYNC221 - returns in milliseconds
        [
            temporal_binary(),
            "operator",
            "search-attribute",
            "list",
            "--namespace",
            namespace,
            "--address",
            address,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert all(key.name in listed for key in SEARCH_ATTRIBUTES)
    again = await asyncio.to_thread(
        subprocess.run, ["sh", script], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert again.returncode == 0 and f"namespace {namespace} exists" in again.stdout
    assert again.stdout.count("already registered") == len(SEARCH_ATTRIBUTES)


def test_the_cluster_turns_fairness_on_as_the_dev_server_does() -> None:
    """Evaluations carry their submitter as fairness key; the compose server reads the same dynamic config
    that the embedded dev server gets as flags."""
    import yaml

    from shared.temporal import FAIRNESS_DYNAMIC_CONFIG, dynamic_config_flags

    config = yaml.safe_load((DOCKER / "dynamicconfig.yaml").read_text())
    assert {k: str(v[0]["value"]).lower() for k, v in config.items()} == FAIRNESS_DYNAMIC_CONFIG
    assert "dynamicconfig.yaml" in (DOCKER / "compose.yaml").read_text()
    assert dynamic_config_flags()[1::2] == [f"{k}={v}" for k, v in FAIRNESS_DYNAMIC_CONFIG.items()]
