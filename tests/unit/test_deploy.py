"""The scale-out path: the Dockerfile, deploy/compose.yaml, and deploy/nginx.conf run by Debian's nginx in front of
two real app servers (harness/replicas.py). There is no Docker engine here: the image and the compose recipe are
checked by reading them; the proxy is checked by running it."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import socket
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml
from websockets.sync.client import connect

from harness.browser import free_port
from harness.replicas import (
    NGINX_CONF,
    UPSTREAM_SERVERS,
    nginx_command,
    nginx_or_skip,
    render_nginx_conf,
    replicas_behind_proxy,
)

ROOT = Path(__file__).resolve().parents[2]
DOCKER_INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER",
    "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip
APP_PORT = 8501
# What `streamlit run app.py` reads inside the image: none of it may be left out of the build context.
RUNTIME_PATHS = [
    "app.py",
    "requirements.txt",
    ".streamlit/config.toml",
    "app_pages/attention.py",
    "core/transformer/models.py",
    "figures/theme.py",
    "ui/analysis.py",
    "static",
    "assets/examples.json",
]
KEPT_OUT = ["artifacts", "tests", "bench", ".git", ".pytest_cache", "core/__pycache__", ".streamlit/secrets.toml"]
# Sources for the stickiness checks: with `hash ... consistent` the ring comes from the replicas' host:port, so which
# replica an address reaches changes with each run's free ports. With 24 addresses, both replicas are reached unless
# the ring gives one of them nearly everything (each holds 160 points: chance ~2 × 2^-24 at an even split).
SOURCES = [f"127.0.0.{i}" for i in range(2, 26)]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments and blank lines dropped, ``\\``-continued lines joined."""
    instructions, logical = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, arguments = logical.partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        logical = ""
    assert not logical, f"the Dockerfile ends inside a continued instruction: {logical!r}"
    return instructions


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form CMD (or HEALTHCHECK's CMD)."""
    command = json.loads(arguments)
    assert isinstance(command, list) and all(isinstance(part, str) for part in command), arguments
    return command


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore's ``patterns`` leave ``path`` (or a folder above it) out; Docker's ``!`` not used."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], pattern[3:])
            ):
                return True
    return False


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())


def test_every_dockerfile_line_is_a_known_instruction(dockerfile):
    unknown = [keyword for keyword, _ in dockerfile if keyword not in DOCKER_INSTRUCTIONS]
    assert dockerfile and not unknown, unknown


def test_dockerfile_parser_joins_continued_lines_and_skips_comments():
    text = '# syntax\nFROM a\n\nRUN one \\\n  # note\n    two\nCMD ["x"]\n'
    assert dockerfile_instructions(text) == [("FROM", "a"), ("RUN", "one two"), ("CMD", '["x"]')]


def test_image_starts_from_python_311_slim(dockerfile):
    assert dockerfile[0] == ("FROM", "python:3.11-slim")


def test_packages_are_installed_before_the_code_is_copied(dockerfile):
    """A change to the code must not reinstall torch: requirements.txt alone is copied and installed first."""
    steps = [f"{keyword} {arguments}" for keyword, arguments in dockerfile]
    copy_requirements = next(i for i, step in enumerate(steps) if re.match(r"COPY requirements\.txt \S+$", step))
    install = next(i for i, step in enumerate(steps) if step.startswith("RUN pip install -r requirements.txt"))
    copy_code = next(i for i, step in enumerate(steps) if re.match(r"COPY (--\S+ )*\. \S+$", step))
    assert copy_requirements < install < copy_code


def test_server_runs_as_a_user_without_root(dockerfile):
    users = [(i, arguments) for i, (keyword, arguments) in enumerate(dockerfile) if keyword == "USER"]
    cmd = next(i for i, (keyword, _) in enumerate(dockerfile) if keyword == "CMD")
    assert users and users[-1][0] < cmd
    assert users[-1][1].split(":")[0] not in {"root", "0"}


def test_image_runs_the_app_on_every_interface_of_the_exposed_port(dockerfile):
    (cmd,) = [exec_form(arguments) for keyword, arguments in dockerfile if keyword == "CMD"]
    assert cmd[:3] == ["streamlit", "run", "app.py"]
    options = dict(zip(cmd[3::2], cmd[4::2]))
    assert options == {"--server.address": "0.0.0.0", "--server.port": str(APP_PORT), "--server.headless": "true"}
    assert ("EXPOSE", str(APP_PORT)) in dockerfile


def healthcheck_command(dockerfile) -> list[str]:
    (arguments,) = [arguments for keyword, arguments in dockerfile if keyword == "HEALTHCHECK"]
    options, _, command = arguments.partition(" CMD ")
    assert all(option.startswith("--") for option in options.split()), options
    return exec_form(command)


def test_health_check_asks_the_servers_health_endpoint(dockerfile):
    command = healthcheck_command(dockerfile)
    assert command[:2] == ["python", "-c"]
    assert f"http://localhost:{APP_PORT}/_stcore/health" in command[2]


def test_build_context_leaves_out_tests_and_artifacts_but_keeps_the_app():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [pattern for pattern in patterns if pattern and not pattern.startswith("#")]
    assert not any(pattern.startswith("!") for pattern in patterns)  # ignored() does not model exceptions
    assert [path for path in KEPT_OUT if not ignored(path, patterns)] == []
    assert [path for path in RUNTIME_PATHS if ignored(path, patterns)] == []
    assert all((ROOT / path).exists() for path in RUNTIME_PATHS)


def test_compose_runs_two_replicas_of_the_image_behind_nginx(compose):
    services = compose["services"]
    replicas = sorted(name for name in services if name != "nginx")
    assert replicas == ["app1", "app2"]
    for name in replicas:
        assert services[name]["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    nginx = services["nginx"]
    assert nginx["image"].startswith("nginx:")
    assert nginx["ports"] == ["8080:80"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert all(nginx["depends_on"][name]["condition"] == "service_healthy" for name in replicas)


def test_nginx_upstream_names_every_compose_replica_on_the_app_port(compose):
    (servers,) = [match.group(0) for match in UPSTREAM_SERVERS.finditer(NGINX_CONF.read_text())]
    upstream = re.findall(r"server\s+(\S+);", servers)
    assert upstream == [f"{name}:{APP_PORT}" for name in compose["services"] if name != "nginx"]


def test_nginx_accepts_the_config_rendered_for_local_replicas(tmp_path):
    nginx = nginx_or_skip()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(["127.0.0.1:18501", "127.0.0.1:18502"], "127.0.0.1:18080", tmp_path))
    result = subprocess.run([*nginx_command(nginx, tmp_path, conf), "-t"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_rendering_fails_loudly_when_the_shipped_config_changes_shape(tmp_path):
    without_upstream = NGINX_CONF.read_text().replace("server app1:8501;", "").replace("server app2:8501;", "")
    with pytest.raises(ValueError, match="upstream server lines"):
        render_nginx_conf(["127.0.0.1:1"], "127.0.0.1:2", tmp_path, template=without_upstream)


@pytest.fixture(scope="module")
def deployment():
    with replicas_behind_proxy(2) as running:
        yield running


def test_health_answers_ok_through_the_proxy(deployment):
    status, _, body = deployment.request("/_stcore/health")
    assert (status, body) == (200, b"ok")


def test_client_addresses_spread_over_both_replicas_and_each_sticks_to_one(deployment):
    reached = {source: {deployment.served_by(source) for _ in range(3)} for source in SOURCES}
    assert all(len(replicas) == 1 for replicas in reached.values()), reached
    assert Counter(replica for (replica,) in reached.values()).keys() == {0, 1}, reached


def test_a_browser_gets_a_replica_cookie_once_and_sticks_to_it_from_any_address(deployment):
    """A class behind one NAT address spreads by cookie; a browser keeps its replica when its address changes."""
    _, first, _ = deployment.request("/", SOURCES[0])
    (cookie,) = first.get_all("Set-Cookie")
    value = re.fullmatch(r"replica=([0-9a-f]{32}); Path=/; HttpOnly; SameSite=Lax", cookie).group(1)
    _, again, _ = deployment.request("/", SOURCES[0], {"Cookie": f"replica={value}"})
    assert again.get_all("Set-Cookie") is None
    assert len({deployment.served_by(source, cookie=value) for source in SOURCES[:8]}) == 1
    one_address = {deployment.served_by(SOURCES[0], cookie=f"{i:032x}") for i in range(24)}
    assert one_address == {0, 1}


def test_websocket_passes_through_the_proxy_to_the_sticky_replica(deployment):
    """The upgrade reaches Streamlit with the Host the browser used, port included (Streamlit accepts a WebSocket
    whose Origin is that Host: nginx's $host, without the port, is refused with 403), on the address's replica."""
    port = int(deployment.url.rsplit(":", 1)[1])
    public = f"class.example:{port}"
    for source in SOURCES[:2]:
        probe = uuid.uuid4().hex
        sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
        stream = f"ws://{public}/_stcore/stream?probe={probe}"
        with connect(stream, sock=sock, origin=f"http://{public}", subprotocols=["streamlit"]) as websocket:
            assert websocket.subprotocol == "streamlit"
        line = deployment.logged(probe)
        assert line.startswith(f"{source} ") and " 101 " in line
        assert deployment.replica_in(line) == deployment.served_by(source)


def test_image_health_check_passes_on_a_running_server_and_fails_without_one(dockerfile, deployment):
    _, code = healthcheck_command(dockerfile)[1:]
    replica = deployment.replica_urls[0].removeprefix("http://")
    nobody = f"127.0.0.1:{free_port()}"
    for address, healthy in [(replica, True), (nobody, False)]:
        probe = code.replace(f"localhost:{APP_PORT}", address)
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
        assert (result.returncode == 0) is healthy, shlex.join([sys.executable, "-c", probe]) + result.stderr
