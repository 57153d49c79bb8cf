"""The ``local`` deploy target: each environment runs the service as a process on its
own loopback port, from a private copy of the candidate's artifact.

A deploy copies the artifact into ``<state_dir>/deploy/<env>/revisions/<n>/`` (or, for a
published candidate, pulls it there from the registry by digest, every layer checked),
stops the old process, starts the new one detached (it outlives the command), from a clean
environment (``deploy.local.env`` and ``pass_env``, never the caller's variables), and waits
for its readiness endpoint, its ``/version`` and one golden record scored through it. When
it is not ready in time the previous revision is started again and ``DeployError`` says
what happened.

With ``environments.<env>.router: nginx`` the order changes so the port never goes
unanswered: nginx (harness/deploy/router.py) listens on it, the new revision starts on its
own loopback port beside the old one, and nginx is switched to it only once it is ready;
then the old one stops. Not ready: nginx is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from harness.candidate.artifact import artifact_digest
from harness.candidate.identity import MODEL_REFERENCE_ENV, Candidate
from harness.clock import utc_now
from harness.config import EnvironmentSpec, HarnessConfig
from harness.deploy.readiness import scoring_problem
from harness.deploy.router import NginxRouter, free_loopback_port, nginx_binary
from harness.deploy.state import (
    EnvState,
    Revision,
    RouterState,
    env_dir,
    load_state,
    locked,
    save_state,
)
from harness.deploy.target import Deployment, served_artifact_problem
from harness.errors import DeployError
from harness.processes import (
    clean_env,
    log_tail,
    pid_alive,
    port_is_free,
    probe,
    spawn_detached,
    stop_process,
    wait_port_free,
    wait_ready,
)

LOG_FILE = "service.log"
# What Jenkins' process-tree killer matches a build's processes by (pipelines, freestyle).
JENKINS_BUILD_MARKERS = ("JENKINS_NODE_COOKIE", "BUILD_ID")



class LocalTarget:
    """Staging and production as processes on loopback ports (the embedded default)."""

    name = "local"

    def __init__(self, config: HarnessConfig, ready_timeout_s: float | None = None) -> None:
        self._config = config
        self._state_dir = config.state_dir()
        self._ready_timeout_s = ready_timeout_s or config.deploy.ready_timeout_s

    # -- the DeployTarget protocol -------------------------------------------------------

    def deploy(self, env: str, candidate: Candidate) -> Deployment:
        spec = self._environment(env)
        if spec.router:
            nginx_binary(env)  # refused before anything is copied or started
        folder = env_dir(self._state_dir, env)
        with locked(folder):
            state = load_state(folder) or EnvState(env=env, port=self._port(env, spec))
            number = state.next_number()
            revision_dir = folder / "revisions" / str(number)
            revision = Revision(
                revision=number,
                candidate=candidate,
                artifact_dir=self._materialize(candidate, revision_dir / "artifact"),
                deployed_at=utc_now(),
                env=self._declared_env(),
            )
            return self._switch(state, folder, revision)

    def status(self, env: str) -> Deployment | None:
        spec = self._environment(env)
        state = load_state(env_dir(self._state_dir, env))
        revision = state.revision(state.current) if state else None
        if state is None or revision is None:
            return None
        if state.pid is None:
            return self._deployment(env, spec, revision, healthy=False, detail="stopped")
        if not self._serves(state.pid, revision):
            detail = f"its process (pid {state.pid}) is not running; deploy or roll back again"
            return self._deployment(env, spec, revision, healthy=False, detail=detail)
        if spec.router and state.router is not None:
            router = self._router(env, env_dir(self._state_dir, env))
            if router.pid() is None:
                detail = f"process {state.pid} runs but its router (nginx) does not"
                return self._deployment(env, spec, revision, healthy=False, detail=detail)
        if not probe(spec.address() + self._config.deploy.local.ready_path):
            detail = f"process {state.pid} runs but {self._config.deploy.local.ready_path} fails"
            return self._deployment(env, spec, revision, healthy=False, detail=detail)
        problem = scoring_problem(self._config, spec.address())
        if problem is not None:
            detail = f"process {state.pid} runs but {problem}"
            return self._deployment(env, spec, revision, healthy=False, detail=detail)
        return self._deployment(env, spec, revision, healthy=True,
                                detail=f"pid {state.pid}" + self._router_detail(state))

    def wait_ready(self, env: str, timeout_s: float) -> Deployment:
        spec = self._environment(env)
        state = load_state(env_dir(self._state_dir, env))
        revision = state.revision(state.current) if state else None
        if state is None or revision is None or state.pid is None:
            raise DeployError(f"nothing is running in environment '{env}'; deploy a candidate first")
        problem = wait_ready(
            spec.address() + self._config.deploy.local.ready_path, timeout_s, state.pid
        ) or scoring_problem(self._config, spec.address())
        if problem:
            raise DeployError(f"environment '{env}' (revision {revision.revision}): {problem}")
        return self._deployment(env, spec, revision, healthy=True, detail=f"pid {state.pid}")

    def rollback(self, env: str) -> Deployment:
        if self._environment(env).router:
            nginx_binary(env)
        folder = env_dir(self._state_dir, env)
        with locked(folder):
            state = load_state(folder)
            current = state.revision(state.current) if state else None
            if state is None or current is None:
                raise DeployError(f"nothing was deployed to environment '{env}'; nothing to roll back")
            position = state.revisions.index(current)
            if position == 0:
                raise DeployError(
                    f"environment '{env}' has no revision before revision {current.revision}; "
                    "nothing to roll back to"
                )
            previous = state.revisions[position - 1]
            number = state.next_number()
            revision = Revision(
                revision=number,
                candidate=previous.candidate,
                artifact_dir=previous.artifact_dir,
                deployed_at=utc_now(),
                note=f"rollback to revision {previous.revision}",
                env=previous.env,
            )
            return self._switch(state, folder, revision)

    def stop(self, env: str) -> None:
        self._environment(env)
        folder = env_dir(self._state_dir, env)
        with locked(folder):
            state = load_state(folder)
            if state is None:
                return
            self._stop(state)
            if state.router is not None:
                self._router(state.env, folder).stop()
            save_state(folder, state)

    def start_beside(self, env: str, candidate: Candidate, folder: Path,
                     nice: int = 0) -> tuple[int, int]:
        """Start ``candidate`` as a service of ``env`` on a free loopback port of its own,
        its artifact and log under ``folder``, at CPU priority ``nice``, never touching what
        serves ``env``; wait until it is ready and scores a golden record. Returns (pid,
        port); not ready: it is stopped, its artifact removed, and ``DeployError`` says why."""
        spec = self._environment(env)
        revision = Revision(revision=1, candidate=candidate,
                            artifact_dir=self._materialize(
                                candidate, folder / "revisions" / "1" / "artifact"),
                            deployed_at=utc_now(), note=f"beside {env}",
                            env=self._declared_env())
        port = free_loopback_port()
        pid = self._start(folder, spec, revision, port, nice)
        url = f"http://127.0.0.1:{port}"
        problem = (wait_ready(url + self._config.deploy.local.ready_path,
                              self._ready_timeout_s, pid)
                   or served_artifact_problem(url, candidate)
                   or scoring_problem(self._config, url))
        if problem is None:
            return pid, port
        stop_process(pid)
        log = folder / "revisions" / "1" / LOG_FILE
        tail = log_tail(log)
        shutil.rmtree(revision.artifact_dir, ignore_errors=True)
        raise DeployError(
            f"environment '{env}': candidate {candidate.id} did not become ready beside it: "
            f"{problem}. Its log: {log}" + (f"\n  {tail}" if tail else ""))

    # -- how it is done ------------------------------------------------------------------

    def _environment(self, env: str) -> EnvironmentSpec:
        return self._config.environment(env)

    @staticmethod
    def _port(env: str, spec: EnvironmentSpec) -> int:
        if spec.port is None:
            raise DeployError(f"environment '{env}' needs a 'port' for the local target")
        return spec.port

    def _deployment(
        self, env: str, spec: EnvironmentSpec, revision: Revision, healthy: bool, detail: str
    ) -> Deployment:
        return Deployment(
            env=env, target=self.name, candidate=revision.candidate, revision=revision.revision,
            deployed_at=revision.deployed_at, url=spec.address(), healthy=healthy, detail=detail,
        )

    def _materialize(self, candidate: Candidate, destination: Path) -> Path:
        """The candidate's bytes in the revision folder: pulled by digest from the registry
        when it was published (every layer checked), else copied from its artifact."""
        if candidate.reference is None:
            return self._copy_artifact(candidate, destination)
        try:
            # Imported here: the registry client costs a tenth of a second at import, and
            # `harness status` (every Jenkins stage) pulls nothing.
            from harness.candidate.publish import pull_candidate

            return pull_candidate(self._config, candidate, destination)
        except BaseException:
            with contextlib.suppress(OSError):
                destination.parent.rmdir()  # the revision folder, left empty
            raise

    @staticmethod
    def _copy_artifact(candidate: Candidate, destination: Path) -> Path:
        """Copy the artifact where a later rollback can find it, checking it is the candidate's."""
        source = candidate.artifact
        if not source.exists():
            raise DeployError(f"candidate {candidate.id}: artifact {source} does not exist")
        destination.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".artifact-", dir=destination.parent))
        tmp.chmod(0o755)  # mkdtemp's 0700 would stay on the folder it becomes
        try:
            if source.is_dir():
                shutil.copytree(source, tmp, dirs_exist_ok=True)
            else:
                shutil.copy2(source, tmp / source.name)
            copied = artifact_digest(tmp if source.is_dir() else tmp / source.name)
            if copied != candidate.artifact_sha256:
                raise DeployError(
                    f"candidate {candidate.id}: artifact {source} changed since the candidate was "
                    f"described (sha256 {copied[:12]}, expected {candidate.artifact_sha256[:12]}); "
                    "describe the candidate again"
                )
            if destination.exists():
                shutil.rmtree(destination)
            tmp.rename(destination)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if not any(destination.parent.iterdir()):
                destination.parent.rmdir()
            raise
        return destination

    def _command(self, spec: EnvironmentSpec, artifact: Path,
                 port: int | None = None) -> list[str]:
        values = {
            "{python}": sys.executable, "{artifact}": str(artifact),
            "{config}": str(self._config.source),
            "{host}": spec.host if port is None else "127.0.0.1",
            "{port}": str(spec.port if port is None else port),
        }
        command = []
        for part in self._config.deploy.local.command:
            for placeholder, value in values.items():
                part = part.replace(placeholder, value)
            command.append(part)
        return command

    def _declared_env(self) -> dict[str, str]:
        """What the config gives a new revision's service: the caller's variables that
        ``pass_env`` names (as they are now), then ``env``. Recorded with the revision (in
        the state file, private to the user), so a rollback restarts it as it ran."""
        local = self._config.deploy.local
        passed = {name: os.environ[name] for name in local.pass_env if name in os.environ}
        return {**passed, **local.env}

    def _start(self, folder: Path, spec: EnvironmentSpec, revision: Revision,
               port: int | None = None, nice: int = 0) -> int:
        log = folder / "revisions" / str(revision.revision) / LOG_FILE
        # A clean environment: the caller's fault injection or HARNESS_* settings (a shell,
        # a Jenkins stage) never reach a service; the config declares what does.
        env = clean_env(revision.env)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(self._config.root), env.get("PYTHONPATH")) if p)
        env.pop(MODEL_REFERENCE_ENV, None)
        # Jenkins ends every process of a build that carries the build's cookie when the
        # build ends; an environment's service must outlive the build that deployed it.
        for name in JENKINS_BUILD_MARKERS:
            env.pop(name, None)
        if revision.candidate.reference:
            env[MODEL_REFERENCE_ENV] = revision.candidate.reference
        command = self._command(spec, revision.artifact_dir, port)
        if nice:  # coreutils' nice execs the command: the pid stays the service's
            command = ["nice", "-n", str(nice), *command]
        return spawn_detached(command, log, cwd=self._config.root, env=env)

    @staticmethod
    def _serves(pid: int, revision: Revision) -> bool:
        """True when ``pid`` is alive and is the process serving ``revision`` (not a reused pid)."""
        if not pid_alive(pid):
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return True
        return str(revision.artifact_dir) in cmdline

    def _stop(self, state: EnvState) -> None:
        revision = state.revision(state.current)
        if state.pid is not None and revision is not None and self._serves(state.pid, revision):
            stop_process(state.pid)
        state.pid = None
        if (state.starting_pid is not None and state.starting is not None
                and self._serves(state.starting_pid, state.starting)):
            stop_process(state.starting_pid)  # left behind by a command that was killed
        state.starting, state.starting_pid = None, None
        if state.router is not None:
            self._stop_retiring(state, env_dir(self._state_dir, state.env))
            state.router.starting_port = None

    def _switch(self, state: EnvState, folder: Path, revision: Revision) -> Deployment:
        """Replace what runs in the environment by ``revision``; restore the old one on failure."""
        spec = self._environment(state.env)
        if spec.router:
            return self._switch_routed(state, folder, revision)
        previous = state.revision(state.current)
        stopping = any(x is not None for x in (state.pid, state.starting_pid, state.router))
        self._stop(state)
        if state.router is not None:  # the key was removed: nginx gives the port back
            self._router(state.env, folder).stop()
            state.router = None
        save_state(folder, state)
        # A process just stopped may hold the port a moment longer; with nothing of ours
        # stopped, whoever holds it will not let go by waiting.
        if not wait_port_free(spec.host, self._port(state.env, spec),
                              timeout_s=5.0 if stopping else 0.0):
            raise DeployError(
                f"port {spec.port} of environment '{state.env}' is used by another process; "
                f"free it or set environments.{state.env}.port"
            )
        ready_url = spec.address() + self._config.deploy.local.ready_path
        pid = self._start(folder, spec, revision)
        state.starting, state.starting_pid = revision, pid
        save_state(folder, state)
        problem = wait_ready(ready_url, self._ready_timeout_s, pid)
        if problem is None:
            problem = served_artifact_problem(spec.address(), revision.candidate)
        if problem is None:
            problem = scoring_problem(self._config, spec.address())
        state.starting, state.starting_pid = None, None
        if problem is None:
            state.revisions.append(revision)
            state.current, state.pid = revision.revision, pid
            self._prune(state, folder)
            save_state(folder, state)
            return self._deployment(state.env, spec, revision, healthy=True, detail=f"pid {pid}")

        stop_process(pid)
        log = folder / "revisions" / str(revision.revision) / LOG_FILE
        tail = log_tail(log)
        if revision.artifact_dir.parent.name == str(revision.revision):
            shutil.rmtree(revision.artifact_dir, ignore_errors=True)
        outcome = "nothing was running before, so nothing is running now"
        if previous is not None:
            old_pid = self._start(folder, spec, previous)
            # A revision that served before gets the configured timeout, never a shorter one.
            restore_timeout_s = max(self._ready_timeout_s, self._config.deploy.ready_timeout_s)
            old_problem = (wait_ready(ready_url, restore_timeout_s, old_pid)
                           or scoring_problem(self._config, spec.address()))
            if old_problem is None:
                state.pid = old_pid
                outcome = (
                    f"revision {previous.revision} (candidate {previous.candidate.id}) "
                    "serves again"
                )
            else:
                stop_process(old_pid)
                outcome = f"restarting revision {previous.revision} failed too: {old_problem}"
        save_state(folder, state)
        raise DeployError(
            f"environment '{state.env}': candidate {revision.candidate.id} "
            f"(revision {revision.revision}) was refused: {problem}; {outcome}. "
            f"Its log: {log}" + (f"\n  {tail}" if tail else "")
        )

    def _prune(self, state: EnvState, folder: Path) -> None:
        """Keep the last ``history_limit`` revisions and the artifacts they use."""
        state.revisions = state.revisions[-self._config.deploy.history_limit:]
        keep = {r.artifact_dir.resolve() for r in state.revisions}
        for revision_dir in (folder / "revisions").iterdir():
            artifact = (revision_dir / "artifact").resolve()
            number = revision_dir.name
            if artifact not in keep and not any(str(r.revision) == number for r in state.revisions):
                shutil.rmtree(revision_dir, ignore_errors=True)

    # -- with a router in front (environments.<env>.router) -------------------------------

    def _router(self, env: str, folder: Path) -> NginxRouter:
        spec = self._environment(env)
        return NginxRouter(env, folder / "router", spec.host, self._port(env, spec))

    def _router_detail(self, state: EnvState) -> str:
        if state.router is None or not self._environment(state.env).router:
            return ""
        router = self._router(state.env, env_dir(self._state_dir, state.env))
        return (f"; router nginx pid {router.pid()} routes to revision {router.routes_to()} "
                f"on port {state.router.port}")

    @staticmethod
    def _stop_retiring(state: EnvState, folder: Path) -> None:
        """Stop the revision a killed switch left running beside the new one."""
        router = state.router
        if router is None or router.retiring_pid is None:
            return
        pid = router.retiring_pid
        try:
            ours = str(folder) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            ours = False
        if ours and pid_alive(pid):
            stop_process(pid)
        router.retiring_pid = None

    def _settle(self, state: EnvState, folder: Path, router: NginxRouter) -> None:
        """Finish what a killed switch left: a started revision never routed to is stopped;
        when the state says nginx routes to the current revision, make it so, then stop
        the revision it replaced."""
        if state.starting_pid is not None and state.starting is not None \
                and self._serves(state.starting_pid, state.starting):
            stop_process(state.starting_pid)
        state.starting, state.starting_pid = None, None
        recorded = state.router
        current = state.revision(state.current)
        if recorded is None:
            return
        recorded.starting_port = None
        if (recorded.revision is not None and recorded.port is not None
                and recorded.revision == state.current and current is not None
                and state.pid is not None and self._serves(state.pid, current)
                and (router.pid() is None or router.routes_to() != recorded.revision)):
            router.route(recorded.port, recorded.revision)
        self._stop_retiring(state, folder)
        save_state(folder, state)

    def _switch_routed(self, state: EnvState, folder: Path, revision: Revision) -> Deployment:
        """Start ``revision`` on its own port beside the one serving, route nginx to it once
        it is ready, then stop the old one. Not ready: nginx is left as it was."""
        spec = self._environment(state.env)
        router = self._router(state.env, folder)
        self._settle(state, folder, router)
        previous = state.revision(state.current)
        recorded = state.router or RouterState()
        port = free_loopback_port()
        pid = self._start(folder, spec, revision, port)
        state.starting, state.starting_pid = revision, pid
        recorded.starting_port, state.router = port, recorded
        save_state(folder, state)
        url = f"http://127.0.0.1:{port}"
        problem = (wait_ready(url + self._config.deploy.local.ready_path,
                              self._ready_timeout_s, pid)
                   or served_artifact_problem(url, revision.candidate)
                   or scoring_problem(self._config, url))
        state.starting, state.starting_pid, recorded.starting_port = None, None, None
        if problem is not None:
            stop_process(pid)
            log = folder / "revisions" / str(revision.revision) / LOG_FILE
            tail = log_tail(log)
            if revision.artifact_dir.parent.name == str(revision.revision):
                shutil.rmtree(revision.artifact_dir, ignore_errors=True)
            save_state(folder, state)
            outcome = ("nothing was running before, so nothing is running now"
                       if previous is None else
                       f"the router still routes to revision {previous.revision} "
                       f"(candidate {previous.candidate.id})")
            raise DeployError(
                f"environment '{state.env}': candidate {revision.candidate.id} "
                f"(revision {revision.revision}) was refused: {problem}; {outcome}. "
                f"Its log: {log}" + (f"\n  {tail}" if tail else "")
            )
        old_pid = (state.pid if previous is not None and state.pid is not None
                   and self._serves(state.pid, previous) else None)
        unrouted = router.pid() is None  # the first switch: nginx is not running yet
        state.revisions.append(revision)
        state.current, state.pid = revision.revision, pid
        recorded.revision, recorded.port, recorded.retiring_pid = revision.revision, port, old_pid
        self._prune(state, folder)
        save_state(folder, state)  # says where nginx routes before it is switched
        if unrouted and old_pid is not None and not port_is_free(spec.host, spec.port or 0):
            # A revision started without a router holds the port: it goes first, once.
            stop_process(old_pid)
            wait_port_free(spec.host, self._port(state.env, spec))
            recorded.retiring_pid = None
        router.route(port, revision.revision)
        if recorded.retiring_pid is not None:
            stop_process(recorded.retiring_pid)  # its requests in flight are answered first
            recorded.retiring_pid = None
        save_state(folder, state)
        return self._deployment(state.env, spec, revision, healthy=True,
                                detail=f"pid {pid}" + self._router_detail(state))
