"""docker-compose.yml runs what the launcher runs: real modules, settings the services know, the default ports.

`docker-compose config` checks the syntax, and tests/deploy runs the containers (where Docker is); this checks,
in a second and without an engine, that the files agree with the code: renaming a setting or a port, or a
key of deploy/longwatch.yaml that no setting reads, breaks a test, not a deployment.
"""

from pathlib import Path

import pytest
import yaml

from longwatch.security import TLS_CA_ENV, TLS_CERT_ENV, TLS_KEY_ENV, TOKEN_ENV, TOKEN_FILE_ENV
from longwatch.settings import CONFIG_FILE_ENV, CONFIG_SECTIONS, CommonSettings, setting_variables
from memory_service.core.chroma import parse_chroma_url
from memory_service.settings import MemorySettings
from perception.settings import PerceptionSettings
from reasoner.settings import ReasonerSettings

ROOT = Path(__file__).resolve().parents[2]
# Read by every service's longwatch.security and longwatch.settings, not as settings.
SERVICE_VARIABLES = {TOKEN_ENV, TOKEN_FILE_ENV, TLS_CERT_ENV, TLS_KEY_ENV, TLS_CA_ENV, CONFIG_FILE_ENV}
CONFIG_FILE = "deploy/longwatch.yaml"
CONFIG_MOUNT = f"./{CONFIG_FILE}:/etc/longwatch/longwatch.yaml:ro"
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
    known = setting_variables(prefix, settings_type.model_fields) | SERVICE_VARIABLES
    assert set(environment) <= known, f"{service} in {compose_file}: {set(environment) - known}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_container_runs_its_module_and_checks_its_default_port(service):
    module, _, prefix, port = SERVICES[service]
    spec = load("docker-compose.yml")["services"][service]
    assert spec["command"] == ["python", "-m", module]
    assert (ROOT / module / "__main__.py").exists()
    assert spec["healthcheck"]["test"] == ["CMD", "python", "-m", "orchestration.healthcheck", f"127.0.0.1:{port}"]
    metrics_port = int(spec["environment"][f"{prefix}METRICS_PORT"])  # metrics are on by default in compose
    # Published on the same host ports unless told otherwise (tests/deploy runs beside `longwatch up`).
    published = f"LONGWATCH_PUBLISHED_{service.upper()}"
    assert spec["ports"] == [
        f"127.0.0.1:${{{published}_PORT:-{port}}}:{port}",
        f"127.0.0.1:${{{published}_METRICS_PORT:-{metrics_port}}}:{metrics_port}",
    ]
    assert f"{prefix}HOST" in dockerfile_env()  # listens beyond the container's own loopback


def test_perception_and_reasoner_wait_for_a_healthy_memory_at_its_address():
    services = load("docker-compose.yml")["services"]
    for name in ("perception", "reasoner"):
        assert services[name]["depends_on"] == {"memory": {"condition": "service_healthy"}}
        assert services[name]["environment"]["LONGWATCH_MEMORY_ADDR"] == "memory:50062"


def test_the_image_keeps_data_and_models_where_the_volumes_are():
    assert {"LONGWATCH_DATA_DIR", "LONGWATCH_MODEL_CACHE"} <= dockerfile_env()
    assert "memory-data:/data" in load("docker-compose.yml")["services"]["memory"]["volumes"]


def test_every_service_runs_the_one_image():
    """deploy/offline_image.sh builds it once, as one service's, for all of them."""
    services = load("docker-compose.yml")["services"]
    assert len({spec["image"] for spec in services.values()}) == 1
    assert all(spec["build"] == "." for spec in services.values())


def test_memory_keeps_its_vectors_in_the_chroma_service_it_waits_for():
    services = load("docker-compose.yml")["services"]
    chroma, memory = services["chroma"], services["memory"]
    assert chroma["command"] == ["chroma", "run", "--host", "0.0.0.0", "--port", "8000", "--path", "/chroma"]
    assert "chroma-data:/chroma" in chroma["volumes"]
    server = parse_chroma_url(memory["environment"]["LONGWATCH_MEMORY_CHROMA_URL"])
    assert (server.url, server.port) == ("http://chroma:8000", 8000)
    # The health check probes the heartbeat memory itself waits for, on the port chroma listens on.
    assert parse_chroma_url("http://127.0.0.1:8000").heartbeat_url in " ".join(chroma["healthcheck"]["test"])
    assert memory["depends_on"] == {"chroma": {"condition": "service_healthy"}}


def test_every_volume_a_service_mounts_is_declared():
    spec = load("docker-compose.yml")
    for name, service in spec["services"].items():
        named = {volume.split(":")[0] for volume in service["volumes"] if not volume.startswith(("./", "$"))}
        assert named <= set(spec["volumes"]), name


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_reads_the_deployment_config_file(service):
    spec = load("docker-compose.yml")["services"][service]
    container_path = CONFIG_MOUNT.split(":")[1]
    assert CONFIG_MOUNT in spec["volumes"]
    assert spec["environment"][CONFIG_FILE_ENV] == container_path
    assert (ROOT / CONFIG_FILE).is_file()


def test_the_config_file_holds_only_settings_of_its_services():
    config = load(CONFIG_FILE)
    assert set(config) <= set(CommonSettings.model_fields) | set(CONFIG_SECTIONS)
    assert set(CONFIG_SECTIONS) <= set(config), "each service's section shows the format where it is changed"
    for service in CONFIG_SECTIONS:
        fields = SERVICES[service][1].model_fields
        assert set(config[service]) <= set(fields), f"{service}: {set(config[service]) - set(fields)}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_takes_its_values_from_the_config_file(service, monkeypatch):
    """Loaded the way the service loads it: values in range, no secret, nothing unknown (else it exits 2)."""
    _, settings_type, prefix, _ = SERVICES[service]
    config = load(CONFIG_FILE)
    values = {key: value for key, value in config.items() if key not in CONFIG_SECTIONS} | config[service]
    for key in values:  # the environment would win over the file
        monkeypatch.delenv(f"LONGWATCH_{key.upper()}", raising=False)
        monkeypatch.delenv(f"{prefix}{key.upper()}", raising=False)
    monkeypatch.setenv(CONFIG_FILE_ENV, str(ROOT / CONFIG_FILE))
    settings = settings_type()
    assert {key: getattr(settings, key) for key in values} == values
