"""The production deployment files agree with each other, with the settings and with the docs.

Plain file checks: no database, no Django, no Docker daemon.
"""

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"
DOCKERFILE = ROOT / "Dockerfile"
NGINX_CONF = ROOT / "deploy" / "nginx" / "carillon.conf"
SETTINGS_DIR = ROOT / "config" / "settings"

APP_SERVICES = (
    "web", "worker", "worker-transcode", "worker-cards", "beat", "playout", "playout-standby",
    "mqtt",
)  # fmt: skip
ALL_SERVICES = (*APP_SERVICES, "postgres", "redis", "minio", "nginx", "mosquitto")

# ${VAR}, ${VAR:-default}, ${VAR:?message} or $VAR; "$$" is Compose's escape for a literal "$".
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")
# env("NAME", ...), env.bool("NAME", ...), env.db("NAME"), ... and production's _required("NAME").
SETTINGS_VARIABLE = re.compile(r"\b(?:env(?:\.[a-z_]+)?|_required)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
ENV_EXAMPLE_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=", re.MULTILINE)


@pytest.fixture(autouse=True)
def _isolated_media() -> None:
    """These checks read files only: no media settings to isolate (overrides the conftest's)."""


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, Any]:
    return compose()["services"]


def documented_variables() -> set[str]:
    return set(ENV_EXAMPLE_LINE.findall(ENV_EXAMPLE.read_text()))


def settings_variables() -> set[str]:
    names: set[str] = set()
    for path in sorted(SETTINGS_DIR.glob("*.py")):
        names.update(SETTINGS_VARIABLE.findall(path.read_text()))
    return {name for name in names if not name.startswith("CARILLON_TEST_")}


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def volume_sources(service: dict[str, Any]) -> dict[str, str]:
    """Map each mount's target (without options) to its source, for short-syntax volumes."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        mounts[target] = source
    return mounts


def test_compose_defines_every_service_of_the_channel() -> None:
    missing = set(ALL_SERVICES) - set(services())
    assert not missing, f"docker-compose.yml lacks the services {sorted(missing)}"


def test_app_services_merge_the_shared_carillon_definition() -> None:
    root = yaml.compose(COMPOSE.read_text())
    assert isinstance(root, yaml.MappingNode)
    top = {key.value: value for key, value in root.value}
    anchor = top["x-carillon"]
    service_nodes = {key.value: value for key, value in top["services"].value}
    for name in APP_SERVICES:
        merged = [value for key, value in service_nodes[name].value if key.value == "<<"]
        assert merged and merged[0] is anchor, f"{name} does not merge <<: *carillon"


def test_app_services_share_one_image_and_the_production_settings() -> None:
    shared = compose()["x-carillon"]
    assert shared.get("image") and shared.get("build")
    for name in APP_SERVICES:
        service = services()[name]
        assert (service["image"], service["build"]) == (shared["image"], shared["build"]), name
        environment = service["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
        assert "@postgres:5432/" in environment["DATABASE_URL"], name
        assert environment["AWS_S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert service["depends_on"]["redis"]["condition"] == "service_healthy", name


def test_each_process_runs_its_own_command() -> None:
    commands = {name: command_text(services()[name]) for name in APP_SERVICES}
    assert "config.asgi:application" in commands["web"]
    assert "uvicorn.workers.UvicornWorker" in commands["web"]
    assert "worker -Q default" in commands["worker"]
    transcode = commands["worker-transcode"]
    assert "worker -Q transcode" in transcode
    assert "--concurrency 1" in transcode and "--prefetch-multiplier 1" in transcode
    assert "celery -A config.celery_app beat" in commands["beat"]
    assert commands["playout"] == "python manage.py playout"
    assert commands["playout-standby"] == "python manage.py playout"  # waits for the lease


@pytest.mark.parametrize(
    ("name", "probe"),
    [
        ("postgres", "pg_isready"),
        ("redis", "redis-cli ping"),
        ("minio", "mc ready"),
        ("web", "/healthz"),
    ],
)
def test_service_has_a_healthcheck(name: str, probe: str) -> None:
    service = services()[name]
    assert "healthcheck" in service, f"{name} has no healthcheck"
    assert probe in healthcheck_text(service)


def test_data_lives_in_named_volumes() -> None:
    declared = set(compose().get("volumes") or {})
    assert {"postgres-data", "minio-data", "static"} <= declared
    assert volume_sources(services()["postgres"])["/var/lib/postgresql/data"] == "postgres-data"
    assert volume_sources(services()["minio"])["/data"] == "minio-data"
    for name, service in services().items():
        for source in volume_sources(service).values():
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} mounts an undeclared volume {source}"


def test_nginx_terminates_tls_with_the_mounted_certificates() -> None:
    nginx = services()["nginx"]
    assert "443:443" in nginx["ports"] and "80:80" in nginx["ports"]
    mounts = volume_sources(nginx)
    assert mounts.get("/etc/nginx/certs") == "./deploy/certs"
    assert mounts.get("/srv/static") == "static"
    config = NGINX_CONF.read_text()
    assert re.search(r"^\s*listen 443 ssl", config, re.MULTILINE)
    assert "return 301 https://" in config
    assert "client_max_body_size 4g;" in config
    assert "X-Forwarded-Proto $scheme" in config
    for path in re.findall(r"ssl_certificate(?:_key)?\s+(\S+);", config):
        assert path.startswith("/etc/nginx/certs/"), path
    mounted_config = [source for source in mounts.values() if source.endswith("carillon.conf")]
    assert mounted_config == ["./deploy/nginx/carillon.conf"]


def test_nginx_template_placeholders_are_given_to_nginx() -> None:
    nginx = services()["nginx"]
    placeholders = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", NGINX_CONF.read_text()))
    assert placeholders, "the bucket name should come from the environment"
    filter_ = re.compile(nginx["environment"]["NGINX_ENVSUBST_FILTER"])
    for name in placeholders:
        assert name in nginx["environment"], name
        assert filter_.search(name), f"NGINX_ENVSUBST_FILTER leaves {name} unsubstituted"


def test_only_the_public_prefix_of_the_bucket_is_anonymous() -> None:
    script = command_text(services()["minio-init"])
    assert "mc mb --ignore-existing" in script
    resources = re.findall(r"arn:aws:s3:::([^\"]+)", script.split("mc anonymous")[0])
    assert resources == ["$$BUCKET/public/*"]
    assert not re.search(r"mc anonymous set (public|download|upload)", script)


def test_every_compose_variable_is_documented_in_env_example() -> None:
    used = set(COMPOSE_VARIABLE.findall(COMPOSE.read_text()))
    assert {"POSTGRES_PASSWORD", "MINIO_ROOT_USER", "DJANGO_SECRET_KEY"} <= used
    undocumented = used - documented_variables()
    assert not undocumented, f"add to .env.example: {sorted(undocumented)}"


def test_every_settings_variable_is_documented_in_env_example() -> None:
    used = settings_variables()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= used
    undocumented = used - documented_variables()
    assert not undocumented, f"add to .env.example: {sorted(undocumented)}"


def test_every_configuration_variable_is_described_in_the_readme() -> None:
    readme = README.read_text()
    names = settings_variables() | documented_variables()
    missing = {name for name in names if not re.search(rf"\b{name}\b", readme)}
    assert not missing, f"describe in README.md: {sorted(missing)}"


def test_image_runs_as_an_unprivileged_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert users, "the Dockerfile never switches to a non-root USER"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_image_builds_translations_and_static_files_with_production_settings() -> None:
    dockerfile = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim-bookworm", dockerfile, re.MULTILINE)
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in dockerfile
    assert "manage.py compilemessages" in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    assert re.search(r"^CMD .*gunicorn.*uvicorn\.workers\.UvicornWorker", dockerfile, re.MULTILINE)


def test_secrets_and_local_state_stay_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", "var", ".git"):
        assert entry in ignored, entry


PROCFILE = ROOT / "Procfile"
RUN_SH = ROOT / "scripts" / "run.sh"
# ${NAME:-default} in Compose files and in shell: the value when NAME is not set.
DEFAULT_OF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}")


def option(command: str, name: str) -> str:
    """The value of ``name`` in a command line, its ${VAR:-default} read as the default."""
    found = re.search(rf"{name}[ =](\S+)", command)
    assert found, f"{name} missing from {command!r}"
    return DEFAULT_OF.sub(r"\1", found.group(1)).strip("\"'")


def test_the_web_process_trusts_forwarded_headers_from_its_proxy_only() -> None:
    """uvicorn takes the client's address and scheme from X-Forwarded-* only when they come
    from an allowed address: nginx's, never any client's ("*")."""
    procfile = dict(line.split(": ", 1) for line in PROCFILE.read_text().splitlines() if line)
    assert option(procfile["web"], "--forwarded-allow-ips") == "127.0.0.1"  # the local nginx
    web = command_text(services()["web"])
    trusted = option(web, "--forwarded-allow-ips")
    nginx_address = DEFAULT_OF.sub(
        r"\1", services()["nginx"]["networks"]["default"]["ipv4_address"]
    )
    assert trusted == nginx_address
    subnets = [
        DEFAULT_OF.sub(r"\1", pool["subnet"])
        for pool in compose()["networks"]["default"]["ipam"]["config"]
    ]
    assert any(ipaddress.ip_address(trusted) in ipaddress.ip_network(net) for net in subnets)
    cmd = re.search(r"^CMD (.*)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert cmd and '"*"' not in cmd.group(1)


def test_make_run_makes_its_secrets_before_any_process_starts() -> None:
    """The five processes would race to make the secret key: run.sh makes it first."""
    script = RUN_SH.read_text()
    secrets_step = script.index("-m config.secret_files")
    assert secrets_step < script.index("manage.py migrate") < script.index("honcho")


def test_make_run_writes_no_credentials_to_a_file_of_its_own() -> None:
    """Output redirected to a file gets the default umask (readable by all): the demo
    administrator's password stays in the command's own private file."""
    script = RUN_SH.read_text()
    assert "create_demo_admin" in script
    assert not re.search(r"create_demo_admin[^\n]*>", script)


def test_the_transcode_workers_share_their_work_folder() -> None:
    """Beat sends the work-folder sweep to the transcode queue (the other processes do not see
    the folder): whichever replica takes it sees every replica's attempts, in a volume that
    the image's unprivileged user owns."""
    volume = volume_sources(services()["worker-transcode"]).get("/app/var/work")
    assert volume in set(compose().get("volumes") or {}), "worker-transcode: no work volume"
    assert re.search(r"mkdir -p [^\n]*/app/var/work", DOCKERFILE.read_text())
    assert re.search(r"chown carillon:carillon [^\n]*/app/var/work", DOCKERFILE.read_text())
