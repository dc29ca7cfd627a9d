"""docker-compose.yml runs what the launcher runs: real modules, settings the services know, the default ports.

There is no Docker engine here; `docker-compose config` (Debian's docker-compose) checks the syntax, and this
checks that the file agrees with the code, so renaming a setting or a port breaks a test, not a deployment.
"""

from pathlib import Path

import pytest
import yaml

from longwatch.security import TLS_CA_ENV, TLS_CERT_ENV, TLS_KEY_ENV, TOKEN_ENV, TOKEN_FILE_ENV
from longwatch.settings import setting_variables
from memory_service.settings import MemorySettings
from perception.settings import PerceptionSettings
from reasoner.settings import ReasonerSettings

ROOT = Path(__file__).resolve().parents[2]
# Read by every service's longwatch.security, not by its settings.
SECURITY_VARIABLES = {TOKEN_ENV, TOKEN_FILE_ENV, TLS_CERT_ENV, TLS_KEY_ENV, TLS_CA_ENV}
SERVICES = {
    "memory": ("memory_service", MemorySettings, "LONGWATCH_MEMORY_", 50062),
    "perception": ("perception", PerceptionSettings, "LONGWATCH_PERCEPTION_", 50061),
    "reasoner": ("reasoner", ReasonerSettings, "LONGWATCH_REASONER_", 50063),
}


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def dockerfile_env() -> set[str]:
    """Names set by ENV lines of the Dockerfile (continuations joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    names = set()
    for line in text.splitlines():
        if line.startswith("ENV "):
            names |= {pair.split("=", 1)[0] for pair in line[4:].split() if "=" in pair}
    return names


@pytest.mark.parametrize("compose_file", ["docker-compose.yml", "docker-compose.gpu.yml"])
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_container_sets_only_settings_its_service_reads(compose_file, service):
    module, settings_type, prefix, _ = SERVICES[service]
    environment = load(compose_file)["services"][service].get("environment", {})
    known = setting_variables(prefix, settings_type.model_fields) | SECURITY_VARIABLES
    assert set(environment) <= known, f"{service} in {compose_file}: {set(environment) - known}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_container_runs_its_module_and_checks_its_default_port(service):
    module, _, prefix, port = SERVICES[service]
    spec = load("docker-compose.yml")["services"][service]
    assert spec["command"] == ["python", "-m", module]
    assert (ROOT / module / "__main__.py").exists()
    assert spec["healthcheck"]["test"] == ["CMD", "python", "-m", "orchestration.healthcheck", f"127.0.0.1:{port}"]
    metrics_port = int(spec["environment"][f"{prefix}METRICS_PORT"])  # metrics are on by default in compose
    assert spec["ports"] == [f"127.0.0.1:{port}:{port}", f"127.0.0.1:{metrics_port}:{metrics_port}"]
    assert f"{prefix}HOST" in dockerfile_env()  # listens beyond the container's own loopback


def test_perception_and_reasoner_wait_for_a_healthy_memory_at_its_address():
    services = load("docker-compose.yml")["services"]
    for name in ("perception", "reasoner"):
        assert services[name]["depends_on"] == {"memory": {"condition": "service_healthy"}}
        assert services[name]["environment"]["LONGWATCH_MEMORY_ADDR"] == "memory:50062"


def test_the_image_keeps_data_and_models_where_the_volumes_are():
    assert {"LONGWATCH_DATA_DIR", "LONGWATCH_MODEL_CACHE"} <= dockerfile_env()
    assert "memory-data:/data" in load("docker-compose.yml")["services"]["memory"]["volumes"]
