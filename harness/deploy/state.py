"""The ``local`` target's record of one environment: revisions, the running process, a lock.

``<state_dir>/deploy/<env>/state.json`` is replaced atomically (temporary file,
then ``os.replace``), so a crash never leaves half a record; ``lock`` keeps
two ``harness`` commands from changing one environment at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.candidate.identity import Candidate
from harness.errors import DeployError
from harness.text import clip

STATE_FILE = "state.json"


class Revision(BaseModel):
    """One deployed revision: its candidate, the private copy of its artifact and the
    variables the config gave its service when it was deployed (``deploy.local.env`` and
    the caller's ``pass_env`` ones)."""

    model_config = ConfigDict(extra="forbid")

    revision: int
    candidate: Candidate
    artifact_dir: Path
    deployed_at: str
    note: str = ""
    env: dict[str, str] = {}


class RouterState(BaseModel):
    """What the router of an environment routes to (``environments.<env>.router``):
    recorded before nginx is switched, so the state always says where it points."""

    model_config = ConfigDict(extra="forbid")

    revision: int | None = None
    port: int | None = Field(default=None, ge=1, le=65535)  # the revision's loopback port
    starting_port: int | None = Field(default=None, ge=1, le=65535)
    # The revision switched away from, stopped once nginx routes to the new one.
    retiring_pid: int | None = Field(default=None, gt=1, le=4_194_304)


class EnvState(BaseModel):
    """An environment's current revision, the process serving it, and its history."""

    model_config = ConfigDict(extra="forbid")

    env: str
    port: int = Field(ge=1, le=65535)
    current: int | None = None
    # A process id as Linux gives them (at most 2**22); never 1, init.
    pid: int | None = Field(default=None, gt=1, le=4_194_304)
    revisions: list[Revision] = []
    # A revision being started: recorded before waiting for it, so that if the command is
    # killed meanwhile, the next one can find and stop the process it left behind.
    starting: Revision | None = None
    starting_pid: int | None = Field(default=None, gt=1, le=4_194_304)
    router: RouterState | None = None

    def revision(self, number: int | None) -> Revision | None:
        return next((r for r in self.revisions if r.revision == number), None)

    def next_number(self) -> int:
        return max((r.revision for r in self.revisions), default=0) + 1


def env_dir(state_dir: Path, env: str) -> Path:
    return state_dir / "deploy" / env


def load_state(folder: Path) -> EnvState | None:
    """The recorded state in ``folder``, or None when nothing was ever deployed there."""
    path = folder / STATE_FILE
    try:
        return EnvState.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValidationError) as exc:
        raise DeployError(
            f"{path}: cannot read deploy state ({_first_problem(exc)}); "
            "stop the environment's process and remove the file to start afresh"
        ) from None


def _first_problem(exc: Exception) -> str:
    """The first field pydantic names, else the exception's kind (no input echoed in full)."""
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        return f"field '{clip(where, 100)}': {clip(first['msg'])}"
    return exc.__class__.__name__


def save_state(folder: Path, state: EnvState) -> None:
    """Write ``state`` so that a reader sees either the old record or the new one."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{STATE_FILE}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            # Without a router, the record is what it always was.
            handle.write(state.model_dump_json(
                indent=2, exclude={"router"} if state.router is None else None))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / STATE_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the environment's lock; refuse at once when another command holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeployError(
                f"{folder}: another harness command is changing this environment; "
                "wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
