"""A canary on the local target: a candidate started beside an environment's active revision,
with the environment's nginx sending a share of its predict requests to it.

Unlike a shadow, the canary answers the clients it is given. It lives under
``<state_dir>/deploy/<env>/canary/`` (its artifact, its log, and ``canary.json`` naming its
process); the environment's lock is held while its steps run, so no deploy changes the
environment meanwhile. The canary is ended (``end_canary``) by whoever finds it: after a
promotion (which routes nginx to a fresh revision of the candidate), by the next
``harness canary``, or by ``harness recover`` after a killed one. Ending routes all traffic
to the environment's current revision, then stops the canary's process.

Both survive the command that started them: the canary runs in a session of its own and
nginx is a daemon, so a canary held before its last step (``harness canary
--hold-before-last``) keeps its share with no harness process running; ``resumed`` takes it
back for the last step once it is checked to be still the same.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.deploy.local import LocalTarget
from harness.deploy.router import NginxRouter, Split
from harness.deploy.shadow import _ours, _refuse_without_router
from harness.deploy.state import EnvState, env_dir, load_state, locked
from harness.deploy.target import served_artifact_problem
from harness.errors import DeployError
from harness.processes import pid_alive, stop_process

RECORD = "canary.json"
FOLDER = "canary"


class Canary:
    """A running canary: where stable and the canary answer directly, and the router that
    splits production's requests between them."""

    def __init__(self, env: str, router: NginxRouter, state: EnvState, pid: int,
                 port: int, folder: Path) -> None:
        assert state.router is not None and state.router.port is not None
        assert state.current is not None
        self.env, self.router, self.pid, self.port, self.folder = env, router, pid, port, folder
        self.stable_port, self.stable_revision = state.router.port, state.current
        self.stable_url = f"http://127.0.0.1:{self.stable_port}"
        self.canary_url = f"http://127.0.0.1:{port}"
        self.percent = 0.0

    def route(self, percent: float) -> None:
        """Send ``percent`` of the predict requests to the canary (a reload)."""
        self.router.route(self.stable_port, self.stable_revision, split=Split(self.port, percent))
        self.percent = percent

    def abort(self) -> float:
        """All traffic back on stable at once; returns the seconds until no nginx worker
        that could route to the canary was left."""
        started = time.monotonic()
        self.router.route(self.stable_port, self.stable_revision)
        self.percent = 0.0
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop the canary's process (after ``abort``) and forget it."""
        stop_process(self.pid)
        (self.folder / RECORD).unlink(missing_ok=True)
        shutil.rmtree(self.folder / "revisions" / "1" / "artifact", ignore_errors=True)


def refuse_without_router(config: HarnessConfig, env: str) -> None:
    """Refuse (``DeployError``) unless ``env`` runs behind nginx on the local target."""
    _refuse_without_router(config, env, load_state(env_dir(config.state_dir(), env)), "canary")


def _canary_folder(config: HarnessConfig, env: str) -> Path:
    return env_dir(config.state_dir(), env) / FOLDER


def canary_pid(config: HarnessConfig, env: str) -> int | None:
    """The process of a canary of ``env`` that still runs, if any."""
    folder = _canary_folder(config, env)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        pid = int(json.loads((folder / RECORD).read_text())["pid"])
        if pid > 1 and pid_alive(pid) and _ours(pid, folder):
            return pid
    return None


def held_problem(config: HarnessConfig, env: str, candidate: Candidate, port: int,
                 percent: float) -> str | None:
    """Why the canary a held ``harness canary`` left is not what it held: not running, not
    on ``port``, the router not splitting ``percent`` to it, or answering as another
    artifact than ``candidate``'s; None when all still holds."""
    pid = canary_pid(config, env)
    if pid is None:
        return "the held canary no longer runs"
    folder = _canary_folder(config, env)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        running = int(json.loads((folder / RECORD).read_text())["port"])
        if running != port:
            return f"the canary running now answers on port {running}, the held one on {port}"
    router = NginxRouter(env, env_dir(config.state_dir(), env) / "router", "127.0.0.1", 1)
    split = router.splits_to()
    if router.pid() is None or split != (port, percent):
        now = ("nginx does not run" if router.pid() is None else
               "it splits nothing" if split is None else f"it splits {split[1]:g} % to port "
               f"{split[0]}")
        return f"the router no longer splits {percent:g} % to the held canary ({now})"
    problem = served_artifact_problem(f"http://127.0.0.1:{port}", candidate)
    return None if problem is None else f"the held canary is not the candidate it was: {problem}"


def end_canary(config: HarnessConfig, env: str, hold_lock: bool = True) -> str | None:
    """Route all of ``env``'s traffic to its current revision and stop a canary left
    running; returns what was done, or None when there was no canary."""
    env_folder = env_dir(config.state_dir(), env)
    folder = env_folder / FOLDER
    if not (folder / RECORD).exists():
        return None
    with locked(env_folder) if hold_lock else contextlib.nullcontext():
        done = []
        state = load_state(env_folder)
        spec = config.environment(env)
        router = NginxRouter(env, env_folder / "router", spec.host,
                             state.port if state else spec.port or 0)
        if router.splits_to() is not None and state is not None and state.router \
                and state.router.port and state.current is not None \
                and router.pid() is not None:
            router.route(state.router.port, state.current)
            done.append(f"routed all of {env}'s traffic to revision {state.current}")
        pid = canary_pid(config, env)
        if pid is not None:
            stop_process(pid)
            done.append(f"stopped the canary (pid {pid})")
        (folder / RECORD).unlink(missing_ok=True)
        shutil.rmtree(folder / "revisions" / "1" / "artifact", ignore_errors=True)
        return "; ".join(done) or "the canary had already stopped"


@contextlib.contextmanager
def canarying(config: HarnessConfig, env: str, candidate: Candidate) -> Iterator[Canary]:
    """Run ``candidate`` as ``env``'s canary for the ``with`` block, holding the
    environment's lock; no traffic goes to it until ``Canary.route``. When the block raises
    (an abort, a failure, an interruption), all traffic is back on stable and the canary
    stopped; when it ends normally the canary keeps its share and its process, for the
    promotion that follows to replace, and ``end_canary`` to stop."""
    env_folder = env_dir(config.state_dir(), env)
    folder = env_folder / FOLDER
    spec = config.environment(env)
    _refuse_without_router(config, env, load_state(env_folder), "canary")
    with locked(env_folder):
        state = load_state(env_folder)
        _refuse_without_router(config, env, state, "canary")
        assert state is not None and state.router is not None and state.router.port
        end_canary(config, env, hold_lock=False)
        router = NginxRouter(env, env_folder / "router", spec.host, state.port)
        if router.pid() is None or router.splits_to() is not None \
                or router.mirrors_to() is not None:
            # nginx down (a reboot), or a split or mirror left: production's revision alone
            # first, so a port taken by something else is refused before the canary starts.
            router.route(state.router.port, state.current)
        shutil.rmtree(folder / "revisions", ignore_errors=True)
        pid, port = LocalTarget(config).start_beside(env, candidate, folder)
        (folder / RECORD).write_text(json.dumps({"pid": pid, "port": port,
                                                 "candidate": candidate.id}) + "\n")
        canary = Canary(env, router, state, pid, port, folder)
        with _aborted_on_error(canary):
            yield canary


@contextlib.contextmanager
def resumed(config: HarnessConfig, env: str, candidate: Candidate, port: int,
            percent: float) -> Iterator[Canary]:
    """The canary a held ``harness canary`` left at ``percent`` on ``port``, for the
    ``with`` block, holding the environment's lock again: refused (``DeployError``) unless
    it is still that (``held_problem``); ends as ``canarying`` ends."""
    env_folder = env_dir(config.state_dir(), env)
    spec = config.environment(env)
    with locked(env_folder):
        state = load_state(env_folder)
        _refuse_without_router(config, env, state, "canary")
        assert state is not None
        problem = held_problem(config, env, candidate, port, percent)
        pid = canary_pid(config, env)
        if problem is not None or pid is None:
            raise DeployError(f"cannot resume the canary of candidate {candidate.id}: "
                              f"{problem or 'the held canary no longer runs'}")
        router = NginxRouter(env, env_folder / "router", spec.host, state.port)
        canary = Canary(env, router, state, pid, port, _canary_folder(config, env))
        canary.percent = percent
        with _aborted_on_error(canary):
            yield canary


@contextlib.contextmanager
def _aborted_on_error(canary: Canary) -> Iterator[None]:
    """When the block raises (an abort, a failure, an interruption), all traffic back on
    stable and the canary stopped; otherwise the canary keeps its share and its process."""
    try:
        yield
    except BaseException:
        try:
            if canary.router.pid() is not None:
                canary.abort()
        finally:
            canary.stop()
        raise
