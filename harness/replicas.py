"""Several app servers behind Debian's nginx, as deploy/ ships them, on this machine (no tests here).

- ``replicas_behind_proxy(count)``: ``count`` servers (``harness.browser.streamlit_server``, started side by side),
  ``deploy/nginx.conf`` rendered for their loopback ports, nginx in the foreground on a free port; waits until
  ``/_stcore/health`` answers through the proxy and yields a ``Deployment``; everything is stopped on exit.
- ``Deployment.served_by(source_address)``: which replica a request from that address reaches, read from nginx's
  access log (``upstream=``). Clients on one machine get distinct addresses by binding to 127.0.0.2, 127.0.0.3, …
  (all of 127.0.0.0/8 is local); the sticky key is the client's address unless it sends the ``replica`` cookie.
- ``render_nginx_conf(...)``: the shipped config with local replicas, a local ``listen``, one worker, and log and
  temp paths in a folder of ours, so that neither root nor the compose service names are needed.
- ``nginx_or_skip()``: Debian's ``/usr/sbin/nginx``; missing nginx fails under CI (``CI=true``) and skips otherwise.

With ``hash … consistent`` the ring is built from the replicas' ``host:port`` names, so which replica an address
reaches changes with the (free) ports of each run: ask ``served_by`` rather than assume a mapping.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness.browser import (
    HEALTH_TIMEOUT_S,
    ROOT,
    free_port,
    healthy,
    program_or_skip,
    server_log,
    stop_process_group,
    streamlit_server,
)

NGINX = "/usr/sbin/nginx"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
PROXY_TIMEOUT_S = 20
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")  # every temp folder nginx creates at start
# A run of `server host:port;` lines: the upstream's replicas.
UPSTREAM_SERVERS = re.compile(r"^([ \t]*)server[ \t]+[^\s;{]+;[^\n]*\n(?:[ \t]*server[ \t]+[^\s;{]+;[^\n]*\n)*", re.M)
UPSTREAM_ADDRESS = re.compile(r"upstream=(\S+)")


@dataclass
class Deployment:
    """Replicas of the app behind one nginx: ``url`` is the proxy's base URL."""

    url: str
    replicas: list[subprocess.Popen]  # the Streamlit servers
    replica_urls: list[str]  # each server's own base URL (http://127.0.0.1:PORT), in the order of ``replicas``
    proxy: subprocess.Popen  # nginx's master process; its workers are its children
    access_log: Path  # nginx's access log: one line per request, with upstream=<the replica's address>

    def request(self, path: str, source_address: str = "127.0.0.1", headers: dict[str, str] | None = None):
        """GET ``path`` through the proxy from ``source_address``; returns (status, response headers, body)."""
        port = int(self.url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source_address, 0))
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def served_by(self, source_address: str, cookie: str | None = None, timeout_s: float = 5) -> int:
        """Index in ``replicas`` of the replica that answers a health check from ``source_address`` (sending the
        ``replica`` cookie when given), read from the access log line of that very request."""
        probe = uuid.uuid4().hex
        headers = {"Cookie": f"replica={cookie}"} if cookie else {}
        status, _, body = self.request(f"/_stcore/health?probe={probe}", source_address, headers)
        if status != 200 or body.strip() != b"ok":
            raise RuntimeError(f"health check through the proxy answered {status} {body[:200]!r}")
        return self.replica_in(self.logged(probe, timeout_s))

    def replica_in(self, line: str) -> int:
        """Index in ``replicas`` of the replica that an access log line names (upstream=)."""
        upstream = UPSTREAM_ADDRESS.search(line)
        if upstream is None:
            raise RuntimeError(f"no upstream= in nginx's log line: {line}")
        return self.replica_urls.index(f"http://{upstream.group(1)}")

    def logged(self, needle: str, timeout_s: float = 5) -> str:
        """The first access log line holding ``needle`` (a request's unique query string, say). nginx writes a line
        once the response is sent, a WebSocket's once it has closed: wait for it up to ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.access_log.read_text().splitlines():
                if needle in line:
                    return line
            time.sleep(0.02)
        raise RuntimeError(f"no access log line with {needle!r} after {timeout_s} s")


def nginx_or_skip() -> str:
    return program_or_skip(NGINX, "nginx", "the deployment tests")


def _substitute(pattern: str, replacement: str, text: str, what: str) -> str:
    rendered, count = re.subn(pattern, replacement, text, flags=re.M)
    if count != 1:
        raise ValueError(f"{NGINX_CONF.relative_to(ROOT)}: expected one {what}, found {count}")
    return rendered


def render_nginx_conf(upstreams: Sequence[str], listen: str, folder: Path, template: str | None = None) -> str:
    """deploy/nginx.conf (or ``template``) with ``upstreams`` (``host:port``) as the replicas, ``listen`` as the
    address, one worker, and its access log and temp folders under ``folder``."""
    text = NGINX_CONF.read_text() if template is None else template
    servers = "".join(f"\\1server {upstream};\n" for upstream in upstreams)
    text, count = UPSTREAM_SERVERS.subn(servers, text)
    if count != 1:
        raise ValueError(f"{NGINX_CONF.relative_to(ROOT)}: expected one run of upstream server lines, found {count}")
    text = _substitute(r"^([ \t]*)worker_processes[ \t]+[^;]+;", r"\1worker_processes 1;", text, "worker_processes")
    text = _substitute(r"^([ \t]*)listen[ \t]+[^;]+;", rf"\1listen {listen};", text, "listen")
    text = _substitute(r"^([ \t]*)access_log[ \t]+\S+", rf"\1access_log {folder / 'access.log'}", text, "access_log")
    temp_paths = "".join(f"    {name}_temp_path {folder / name};\n" for name in TEMP_PATHS)
    return _substitute(r"^(http[ \t]*\{[^\n]*\n)", rf"\1{temp_paths}", text, "http block")


def nginx_command(nginx: str, folder: Path, conf: Path) -> list[str]:
    """nginx in the foreground with its prefix, pid file and error log in ``folder`` (add ``-t`` to only check)."""
    return [
        nginx,
        "-p",
        str(folder),
        "-e",
        str(folder / "error.log"),
        "-c",
        str(conf),
        "-g",
        f"daemon off; pid {folder / 'nginx.pid'};",
    ]


def _start_servers(count: int, stack: contextlib.ExitStack, timeout_s: float) -> list[tuple[str, subprocess.Popen]]:
    """``count`` streamlit_server()s entered side by side (each takes seconds to import torch and come up), each
    stopped by ``stack``; raises the first failure once the others are up (``stack`` stops those)."""
    servers = [streamlit_server(timeout_s=timeout_s) for _ in range(count)]
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(server.__enter__) for server in servers]
    for server, future in zip(servers, futures):
        if future.exception() is None:
            stack.push(server.__exit__)
    for future in futures:
        if future.exception() is not None:
            raise future.exception()
    return [future.result() for future in futures]


@contextlib.contextmanager
def replicas_behind_proxy(count: int, timeout_s: float = HEALTH_TIMEOUT_S) -> Iterator[Deployment]:
    """``count`` app servers behind nginx with deploy/nginx.conf's sticky sessions; yields the Deployment."""
    nginx = nginx_or_skip()
    with contextlib.ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="nginx-replicas-"))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        folder.chmod(0o755)  # started by root, nginx's workers run as nobody and must reach their temp folders
        servers = _start_servers(count, stack, timeout_s)
        replica_urls = [url for url, _ in servers]
        port = free_port()
        conf = folder / "nginx.conf"
        upstreams = [url.removeprefix("http://") for url in replica_urls]
        conf.write_text(render_nginx_conf(upstreams, f"127.0.0.1:{port}", folder))
        output = folder / "nginx.out"
        with output.open("w") as log:
            proxy = subprocess.Popen(
                nginx_command(nginx, folder, conf),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        stack.callback(stop_process_group, proxy)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + PROXY_TIMEOUT_S
        while not healthy(url):
            if proxy.poll() is not None or time.monotonic() > deadline:
                state = f"exited with code {proxy.returncode}" if proxy.poll() is not None else "not healthy"
                raise RuntimeError(
                    f"nginx {state}:\n{server_log(output)}\n--- error.log ---\n{server_log(folder / 'error.log')}"
                )
            time.sleep(0.1)
        yield Deployment(
            url=url,
            replicas=[process for _, process in servers],
            replica_urls=replica_urls,
            proxy=proxy,
            access_log=folder / "access.log",
        )
