"""An nginx in front of an environment's port, so a deploy never leaves it unanswered.

Opt-in per environment (``environments.<env>.router: nginx``). The harness runs Debian's
nginx as the current user with everything under ``<state_dir>/deploy/<env>/router/``
(conf, pid, logs, temp paths), listening on the environment's port and proxying to the
active revision on its own loopback port. Switching revisions rewrites the upstream and
reloads nginx gracefully: old workers finish their requests, new ones use the new upstream.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import DeployError
from harness.processes import clean_env, pid_alive

NGINX = "nginx"
DEBIAN_NGINX = Path("/usr/sbin/nginx")
CONF = "nginx.conf"
PID = "nginx.pid"
# Each answer carries the revision nginx routes to, so a switch can be confirmed.
REVISION_HEADER = "X-Harness-Revision"
REQUEST_ID_HEADER = "X-Request-ID"
MIRROR_LOCATION = "/_harness_shadow"
MIRROR_MARK = "harness shadow on port"
# A second mirror (a copy of production, for a shadow's A/A noise floor).
SECOND_LOCATION = "/_harness_second"
SECOND_MARK = "harness second mirror on port"
CANARY_MARK = "harness canary on port"
# Which revision answered: "stable" or "canary" (the upstream nginx chose for the request).
ARM_HEADER = "X-Harness-Arm"
WAIT_S = 10.0
POLL_S = 0.05


def nginx_binary(env: str) -> str:
    """The nginx executable, or a refusal naming the key that asks for it."""
    found = shutil.which(NGINX)
    if found is None:
        raise DeployError(
            f"environments.{env}.router is 'nginx' but nginx is not on PATH; install it "
            f"(apt-get install nginx; Debian puts it in {DEBIAN_NGINX.parent}, which PATH must "
            "hold) or remove the key",
            key=f"environments.{env}.router",
        )
    return found


def free_loopback_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a revision behind the router."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Mirror:
    """Where nginx copies production's predict requests (a shadow's loopback port), and
    how long it waits for the copy's answer before giving up on it."""

    port: int
    timeout_ms: int


@dataclass(frozen=True)
class Split:
    """A canary step: ``percent`` of the predict requests go to the canary's loopback
    port, chosen by a hash of each request's id (nginx ``split_clients``), the rest to the
    active revision."""

    port: int
    percent: float

    def __post_init__(self) -> None:
        if not 0 < self.percent <= 100:
            raise ValueError(f"a canary's share must lie in (0, 100] percent, got {self.percent}")


def _split_blocks(split: Split | None) -> tuple[str, str]:
    """The canary's upstream and the variable naming which upstream a predict request goes
    to (``$harness_arm``); without a split, every request goes to ``stable``."""
    if split is None:
        return "", "\n    map $uri $harness_arm { default stable; }"
    upstream = (f"\n    upstream canary {{ server 127.0.0.1:{split.port}; keepalive 16; }}"
                f"\n    # {CANARY_MARK} {split.port} at {split.percent:g}%")
    if split.percent >= 100:
        return upstream, "\n    map $uri $harness_arm { default canary; }"
    # Hashing the request id (the caller's, else nginx's) splits at random yet keeps a
    # request retried with its id on one arm. nginx takes two decimals of a percent.
    return upstream, f"""
    split_clients "${{harness_request_id}}" $harness_arm {{
        {split.percent:.2f}% canary;
        * stable;
    }}"""


def _mirror_locations(folder: Path, mirror: Mirror | None,
                      location: str = MIRROR_LOCATION,
                      upstream: str = "shadow") -> tuple[str, str]:
    """The directives that copy ``/predict`` requests to ``mirror`` (through ``location``
    and ``upstream``), and its internal location; nothing when there is no mirror."""
    if mirror is None:
        return "", ""
    timeout = f"{mirror.timeout_ms}ms"
    copy = f"""
            mirror {location};
            mirror_request_body on;"""
    # nginx finishes a request only when its mirror subrequest has finished, and reads
    # the next request on a keep-alive connection only then: the timeouts bound what a slow
    # shadow costs production. The shadow logs its answer whether nginx waits or not.
    internal = f"""
        location = {location} {{
            internal;
            proxy_pass http://{upstream}$request_uri;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header {REQUEST_ID_HEADER} $harness_request_id;
            proxy_connect_timeout {timeout};
            proxy_send_timeout {timeout};
            proxy_read_timeout {timeout};
            proxy_next_upstream off;
            # A timed-out copy is expected, not production's error: logged apart.
            error_log {folder / 'mirror-error.log'} error;
        }}"""
    return copy, internal


def _conf(folder: Path, host: str, port: int, upstream_port: int, revision: int,
          mirror: Mirror | None = None, second: Mirror | None = None,
          split: Split | None = None) -> str:
    listen = f"[{host.strip('[]')}]:{port}" if ":" in host.strip("[]") else f"{host}:{port}"
    copy, internal = _mirror_locations(folder, mirror)
    canary, arm = _split_blocks(split)
    shadow = (f"\n    upstream shadow {{ server 127.0.0.1:{mirror.port}; keepalive 16; }}"
              f"\n    # {MIRROR_MARK} {mirror.port}" if mirror else "")
    if mirror is not None and second is not None:
        # nginx allows several mirror directives: each request is copied to both.
        more, more_internal = _mirror_locations(folder, second, SECOND_LOCATION, "second")
        more = more.replace("\n            mirror_request_body on;", "")  # once per location
        copy, internal = copy + more, internal + more_internal
        shadow += (f"\n    upstream second {{ server 127.0.0.1:{second.port}; keepalive 16; }}"
                   f"\n    # {SECOND_MARK} {second.port}")
    return f"""# Written by harness; rewritten on every deploy, rollback and recovery.
worker_processes 1;
pid {folder / PID};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    # No keep-alive to clients: a reload closes the old workers' idle connections, and a
    # client that sent on one at that moment would lose its request. One TCP connect per
    # request on loopback costs far less than that.
    keepalive_timeout 0;
    client_body_temp_path {folder / 'tmp/body'};
    proxy_temp_path {folder / 'tmp/proxy'};
    fastcgi_temp_path {folder / 'tmp/fastcgi'};
    uwsgi_temp_path {folder / 'tmp/uwsgi'};
    scgi_temp_path {folder / 'tmp/scgi'};
    client_max_body_size 16m;
    # Bodies and answers stay in memory, never in the temp folders: nginx started as root
    # runs its workers as another user, who cannot write the folders the harness made (a
    # golden batch through the router failed with 500 that way).
    client_body_buffer_size 16m;
    proxy_max_temp_file_size 0;
    # Every request carries an id: the caller's own X-Request-ID, else one nginx makes.
    map $http_x_request_id $harness_request_id {{
        default $http_x_request_id;
        "" $request_id;
    }}
    upstream revision {{ server 127.0.0.1:{upstream_port}; keepalive 16; }}
    upstream stable {{ server 127.0.0.1:{upstream_port}; keepalive 16; }}{shadow}{canary}{arm}
    server {{
        listen {listen};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header {REQUEST_ID_HEADER} $harness_request_id;
        proxy_read_timeout 300s;
        add_header {REVISION_HEADER} {revision} always;
        location / {{
            proxy_pass http://revision;
        }}
        location /predict {{{copy}
            # A canary step sends its share here (only predictions are split: health,
            # version and metrics answer from the active revision).
            add_header {ARM_HEADER} $harness_arm always;
            add_header {REVISION_HEADER} {revision} always;
            proxy_pass http://$harness_arm;
        }}{internal}
    }}
}}
"""


class NginxRouter:
    """One environment's nginx: its folder, where it listens, what it routes to."""

    def __init__(self, env: str, folder: Path, host: str, port: int) -> None:
        self.env, self.folder, self.host, self.port = env, folder, host, port

    def pid(self) -> int | None:
        """The master's pid while it runs, else None."""
        try:
            pid = int((self.folder / PID).read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid > 1 and pid_alive(pid) and self._is_nginx(pid) else None

    def routes_to(self) -> int | None:
        """The revision the written configuration routes to (None when there is none)."""
        try:
            for line in (self.folder / CONF).read_text().splitlines():
                if REVISION_HEADER in line:
                    return int(line.split()[2].rstrip(";"))
        except (OSError, ValueError, IndexError):
            return None
        return None

    def route(self, upstream_port: int, revision: int, mirror: Mirror | None = None,
              second: Mirror | None = None, split: Split | None = None) -> None:
        """Route to ``revision`` on ``upstream_port``: write the conf atomically, then start
        nginx or reload it, and wait until an answer carries the new revision and the
        workers that served the old one have finished their requests. With ``mirror``,
        production's predict requests are copied to it as well, and with ``second`` (only
        beside a ``mirror``) to that one too; with ``split``, that share of them goes to a
        canary instead. Once this returns, only the new workers route."""
        if second is not None and mirror is None:
            raise ValueError("a second mirror needs a first")
        binary = nginx_binary(self.env)
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
        self._write(_conf(self.folder, self.host, self.port, upstream_port, revision, mirror,
                          second, split))
        self._nginx(binary, "-t")
        master = self.pid()
        old_workers = self._workers(master) if master else set()
        if master is None:
            self._nginx(binary, "-g", "daemon on;")
        else:
            self._nginx(binary, "-s", "reload")
        self._confirm(revision)
        deadline = time.monotonic() + WAIT_S
        while old_workers & self._workers(self.pid()) and time.monotonic() < deadline:
            time.sleep(POLL_S)

    def mirrors_to(self) -> int | None:
        """The shadow port the written configuration copies requests to, if any."""
        return self._marked(MIRROR_MARK)

    def second_mirror_to(self) -> int | None:
        """The port the written configuration copies requests to besides the shadow's."""
        return self._marked(SECOND_MARK)

    def _marked(self, mark: str) -> int | None:
        try:
            for line in (self.folder / CONF).read_text().splitlines():
                if mark in line:
                    return int(line.split()[-1])
        except (OSError, ValueError, IndexError):
            return None
        return None

    def splits_to(self) -> tuple[int, float] | None:
        """The canary's port and share (percent) the written configuration splits to."""
        try:
            for line in (self.folder / CONF).read_text().splitlines():
                if CANARY_MARK in line:
                    words = line.split()
                    return int(words[-3]), float(words[-1].rstrip("%"))
        except (OSError, ValueError, IndexError):
            return None
        return None

    def stop(self) -> None:
        """Stop nginx (gracefully, then by force); nothing when it does not run."""
        master = self.pid()
        if master is None:
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(master, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + WAIT_S
            while pid_alive(master) and time.monotonic() < deadline:
                time.sleep(POLL_S)
            if not pid_alive(master):
                break
        # Workers of a master killed by force exit once they see it gone.
        (self.folder / PID).unlink(missing_ok=True)

    # -- how ------------------------------------------------------------------------------

    def _nginx(self, binary: str, *args: str) -> None:
        command = [binary, "-p", str(self.folder), "-c", CONF, "-e",
                   str(self.folder / "error.log"), *args]
        try:
            # A clean environment: Jenkins ends the processes that carry its build's cookie,
            # and nginx must outlive the build that started it.
            done = subprocess.run(command, check=False, capture_output=True, text=True,
                                  timeout=30, stdin=subprocess.DEVNULL, start_new_session=True,
                                  env=clean_env({}))
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DeployError(f"environment '{self.env}': nginx {' '.join(args)} did not run "
                              f"({type(exc).__name__}); see {self.folder / 'error.log'}") from None
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise DeployError(
                f"environment '{self.env}': nginx {' '.join(args)} failed: {why[0][:300]} "
                f"(its configuration: {self.folder / CONF}); free port {self.port} or fix nginx"
            )

    def _write(self, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{CONF}.", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self.folder / CONF)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _confirm(self, revision: int) -> None:
        """Wait until nginx answers with ``revision``'s header (a reload is asynchronous)."""
        import httpx

        host = f"[{self.host.strip('[]')}]" if ":" in self.host.strip("[]") else self.host
        url = f"http://{host}:{self.port}/version"
        deadline = time.monotonic() + WAIT_S
        seen = "no answer"
        while time.monotonic() < deadline:
            try:
                with httpx.Client(timeout=2.0) as client:  # a fresh connection: a new worker
                    seen = client.get(url).headers.get(REVISION_HEADER, "none")
                if seen == str(revision):
                    return
            except httpx.HTTPError as exc:
                seen = type(exc).__name__
            time.sleep(POLL_S)
        raise DeployError(
            f"environment '{self.env}': nginx on port {self.port} does not route to revision "
            f"{revision} after {WAIT_S:g}s (last seen: {seen}); see {self.folder / 'error.log'}"
        )

    @staticmethod
    def _is_nginx(pid: int) -> bool:
        try:
            return b"nginx" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return True

    @staticmethod
    def _workers(master: int | None) -> set[int]:
        """The worker processes of ``master`` (its children), read from /proc."""
        if master is None:
            return set()
        workers = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(stat[1]) == master and stat[0] != "Z":
                workers.add(int(entry.name))
        return workers
