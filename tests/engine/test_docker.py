"""Static checks of the Docker deployment files (no Docker engine needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings
from shared.temporal import SEARCH_ATTRIBUTES, search_attribute_flags

yaml = pytest.importorskip("yaml")

DOCKER = Path(__file__).resolve().parents[2] / "docker"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return data


def test_compose_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "temporal", "temporal-init", "temporal-ui", "minio", "worker"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["build"]["dockerfile"] == "docker/Dockerfile"
    assert (DOCKER / "Dockerfile").is_file()
    assert "8080:8080" in services["temporal-ui"]["ports"]
    for name, service in services.items():
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"


def test_worker_env_names_real_settings(compose: dict[str, Any]) -> None:
    env = compose["services"]["worker"]["environment"]
    fields = set(Settings.model_fields)
    for var in env:
        assert var.startswith("MECHBENCH_")
        assert var.removeprefix("MECHBENCH_").lower() in fields, f"{var} is not a Settings field"
    assert env["MECHBENCH_STORE"] == "s3"
    assert env["MECHBENCH_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["MECHBENCH_S3_ENDPOINT"] == "minio:9000"


def test_registered_search_attributes_match_the_code() -> None:
    script = (DOCKER / "register-search-attributes.sh").read_text()
    registered = set(re.findall(r"^register (\w+) (\w+)$", script, re.MULTILINE))
    # The dev-server flags are the code's one rendering of name and type: ``--search-attribute Name=Type``.
    flags = search_attribute_flags()
    assert flags[::2] == ["--search-attribute"] * len(SEARCH_ATTRIBUTES)
    expected = {tuple(flag.split("=", 1)) for flag in flags[1::2]}
    assert {name for name, _ in expected} == {k.name for k in SEARCH_ATTRIBUTES}
    assert registered == expected
