"""A shadow on the local target: a candidate started beside an environment's active
revision, with the environment's nginx copying its predict requests to it.

The shadow never answers a client and never replaces production: nginx forwards every
request to the active revision as before and mirrors ``/predict`` requests to the shadow
(harness/deploy/router.py). It lives under ``<state_dir>/deploy/<env>/shadow/`` (its
artifact, its log, and ``shadow.json`` naming its process), and the environment's lock is
held for the whole window, so no deploy or promotion changes the environment meanwhile.
A shadow left behind by a killed command is stopped, and the mirror turned off, by the
next ``harness shadow`` of the environment (a deploy turns the mirror off too).

With a noise floor, a second copy of production's own revision runs beside it too (under
``shadow/copy/``), and nginx mirrors every predict request to both: production against its
copy is the A/A comparison that shows how much a nondeterministic model disagrees with
itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.deploy.local import LocalTarget
from harness.deploy.router import Mirror, NginxRouter, nginx_binary
from harness.deploy.state import EnvState, env_dir, load_state, locked
from harness.errors import DeployError
from harness.processes import pid_alive, stop_process

RECORD = "shadow.json"


@dataclass(frozen=True)
class Shadow:
    """A shadow while it runs: where production answers (through nginx), where its active
    revision and the shadow answer directly, and which revision production serves."""

    env: str
    production_url: str
    production_direct_url: str
    shadow_url: str
    production_revision: int
    folder: Path
    # A second copy of production's revision, mirrored too (a noise floor), else None.
    copy_url: str | None = None


def _refuse_without_router(config: HarnessConfig, env: str, state: EnvState | None,
                           what: str = "shadow") -> None:
    """Refuse (``DeployError``) unless nginx routes ``env``'s running revision on the local
    target, which a ``what`` (shadow, canary) needs."""
    spec = config.environment(env)
    key = f"environments.{env}.router"
    if config.deploy.target != "local":
        if what == "shadow":
            why = ("on Kubernetes each pod keeps its own prediction log, which the harness "
                   "cannot read yet; render the mirror with `harness route --shadow` and judge "
                   "on the local target (docs/kubernetes.md)")
        else:
            why = ("on Kubernetes, render the weighted HTTPRoute with `harness route --canary "
                   "SHARE` (docs/kubernetes.md)")
        raise DeployError(f"harness {what} runs on the local target only, and deploy.target "
                          f"is '{config.deploy.target}': {why}", key="deploy.target")
    if spec.router != "nginx":
        raise DeployError(f"a {what} needs nginx in front of environment '{env}': set {key}: "
                          f"nginx and deploy it again", key=key)
    nginx_binary(env)
    if state is None or state.current is None or state.pid is None:
        raise DeployError(f"nothing serves environment '{env}'; deploy a candidate to it "
                          f"before running a {what} beside it")
    if state.router is None or state.router.port is None:
        raise DeployError(
            f"environment '{env}' (revision {state.current}) serves directly on port "
            f"{state.port}, which nginx would need; deploy it again with {key}: nginx so "
            f"nginx takes the port, then run the {what}", key=key)


def _stop_leftover(folder: Path, router: NginxRouter, state: EnvState) -> None:
    """Stop a shadow a killed command left, and route without the mirror again."""
    record = folder / RECORD
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        recorded = json.loads(record.read_text())
        for key in ("pid", "copy_pid"):
            pid = int(recorded.get(key) or 0)
            if pid > 1 and pid_alive(pid) and _ours(pid, folder):
                stop_process(pid)
    record.unlink(missing_ok=True)
    if router.mirrors_to() is not None and state.router and state.router.port \
            and state.router.revision is not None and router.pid() is not None:
        router.route(state.router.port, state.router.revision)


def _ours(pid: int, folder: Path) -> bool:
    try:
        return str(folder) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


@contextlib.contextmanager
def shadowing(config: HarnessConfig, env: str, candidate: Candidate,
              mirror_timeout_ms: int, nice: int = 0,
              noise_floor: bool = False) -> Iterator[Shadow]:
    """Run ``candidate`` as ``env``'s shadow (at CPU priority ``nice``) for the ``with``
    block; with ``noise_floor``, a copy of production's revision beside it, mirrored too.
    Afterwards the mirror is off, the shadow (and the copy) stopped and its artifact removed
    (its log stays), whatever happened. Refused (``DeployError``) before anything changes
    when the environment has no running nginx in front of a running revision; when the
    candidate (or the copy) is not ready, nothing was routed to it."""
    env_folder = env_dir(config.state_dir(), env)
    folder = env_folder / "shadow"
    spec = config.environment(env)
    _refuse_without_router(config, env, load_state(env_folder))
    with locked(env_folder):
        state = load_state(env_folder)
        _refuse_without_router(config, env, state)
        assert state is not None and state.router is not None and state.router.port
        router = NginxRouter(env, env_folder / "router", spec.host, state.port)
        _stop_leftover(folder, router, state)
        if router.pid() is None:
            # nginx is down (a reboot): start it on production's revision first, so a port
            # taken by something else is refused before the candidate starts.
            router.route(state.router.port, state.current)
        shutil.rmtree(folder / "revisions", ignore_errors=True)
        shutil.rmtree(folder / "copy" / "revisions", ignore_errors=True)
        target = LocalTarget(config)
        pid, port = target.start_beside(env, candidate, folder, nice)
        copy_pid: int | None = None
        try:
            (folder / RECORD).write_text(json.dumps({"pid": pid, "port": port,
                                                     "candidate": candidate.id}) + "\n")
            copy_port = None
            if noise_floor:
                copy_pid, copy_port = target.start_beside(
                    env, _production_copy(state), folder / "copy", nice)
                (folder / RECORD).write_text(json.dumps({
                    "pid": pid, "port": port, "candidate": candidate.id,
                    "copy_pid": copy_pid, "copy_port": copy_port}) + "\n")
            router.route(state.router.port, state.current, Mirror(port, mirror_timeout_ms),
                         Mirror(copy_port, mirror_timeout_ms) if copy_port else None)
            yield Shadow(env=env, production_url=spec.address(),
                         production_direct_url=f"http://127.0.0.1:{state.router.port}",
                         shadow_url=f"http://127.0.0.1:{port}",
                         production_revision=state.current, folder=folder,
                         copy_url=f"http://127.0.0.1:{copy_port}" if copy_port else None)
        finally:
            try:
                if router.pid() is not None:
                    router.route(state.router.port, state.current)
            finally:
                stop_process(pid)
                if copy_pid is not None:
                    stop_process(copy_pid)
                (folder / RECORD).unlink(missing_ok=True)
                shutil.rmtree(folder / "revisions" / "1" / "artifact", ignore_errors=True)
                shutil.rmtree(folder / "copy" / "revisions" / "1" / "artifact",
                              ignore_errors=True)


def _production_copy(state: EnvState) -> Candidate:
    """Production's active revision as a candidate to start again: from its own copy of
    the artifact (never pulled again), which the deploy checked."""
    revision = state.revision(state.current)
    if revision is None:
        raise DeployError(f"environment '{state.env}' records no revision {state.current} "
                          "to copy for the noise floor; deploy it again")
    return dataclasses.replace(revision.candidate, artifact=revision.artifact_dir,
                               reference=None)
