"""The pytest process of ``harness check``: the last refusal, then pytest, in one process,
so the team's model is imported by one process only.

Preflight proves the team's entry point imports by importing it, and that module may load
scikit-learn, torch or more; pytest then imports it again to run the gates and the team's
tests. Done in the engine's process, that import was paid twice per check. So, for a profile
that calls the model in-process (and checks no environment), the engine makes every other
refusal itself and, when none refuses, leaves the entry point to this module: it imports it
(``preflight.check_entry_point``, the same problem, key and message as preflight's), opens
the history store as the engine would have next, and only then becomes pytest. A refusal is
written, pickled, to the file the engine names and the process exits with ``REFUSED``
before pytest starts, having run and recorded nothing; the engine raises that same error.
When anything else is wrong, the engine imports the entry point itself, so its refusal
lists every problem as before.

With ``--wait`` the engine starts this process before its own refusals, so that their
reading of the data overlaps this process's start-up (Python, pytest, the team's model):
the process imports what it will need, proves the entry point, and then waits for ``go``
on its standard input before it opens the history store or starts pytest. Anything else
(the engine refused the run, or died: end of input) and it exits with ``CANCELLED``,
having run and recorded nothing.

    python -m harness.run.pytest_process --config FILE --profile NAME --refusal FILE
        [--wait] -- PYTEST_ARGUMENTS...

Once pytest has ended, the process ends without the interpreter's teardown of the team's
model, pytest and its plugins (``harness.quick_exit``): the engine waits for it to end.

Its module level imports the standard library only: the engine imports it for its names.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.gates.context import RunContext

# Outside pytest's own exit codes (0-5): the run was refused before pytest started.
REFUSED = 64
# Told by the engine not to run (``--wait`` without ``go``): it refused the run itself.
CANCELLED = 65
GO = b"go\n"  # what the engine writes, once its own refusals found nothing
# What the refusal file holds: ("refused", HarnessError) or ("crashed", traceback text).
_REFUSED, _CRASHED = "refused", "crashed"


def proves_entry_point(context: RunContext) -> bool:
    """Whether this process makes the run's last refusal, proving the entry point loads if
    preflight would import it (a profile whose checks call the model in-process): when
    nothing the engine does between preflight and pytest could refuse the run first (a
    protocol probe of ``--target-url``, an environment's identity, making the deepchecks
    environment), so the refusals keep their order. Config facts only, nothing imported:
    the engine starts this process before its own refusals."""
    return (context.target_url is None and context.profile.environment is None
            and "deepchecks" not in context.profile.checks)


def refuse(context: RunContext, wait: bool = False) -> bool:
    """What the engine leaves to this process, in its order: the entry point, then the
    history store, opened (made, or migrated) last so a refused run leaves none. With
    ``wait``, the store is opened only once the engine says ``go``; False when it did not."""
    from harness.history import HistoryStore
    from harness.run.preflight import check_entry_point

    check_entry_point(context)
    if wait:
        _prepare(context)
        if sys.stdin.buffer.readline() != GO:
            return False
    HistoryStore(context.config.history_url()).close()
    return True


def _prepare(context: RunContext) -> None:
    """While the engine's refusals run: import what pytest will import anyway (pytest, the
    plugin, the profile's checks), so the wait costs the run nothing."""
    import pytest  # noqa: F401

    import harness.gates.plugin  # noqa: F401
    from harness.gates.checks import check

    for name in context.profile.checks:
        check(name)


def command(context: RunContext, refusal: Path, pytest_arguments: list[str],
            wait: bool = False) -> list[str]:
    """This module, run with the context's config and profile, then pytest's arguments;
    with ``wait``, waiting for ``go`` before it records or runs anything."""
    return [sys.executable, "-m", __name__, "--config", str(context.config.source),
            "--profile", context.profile_name, "--refusal", str(refusal),
            *(["--wait"] if wait else []), "--", *pytest_arguments]


def read_refusal(refusal: Path) -> BaseException:
    """The error the pytest process refused the run with, to raise in the engine: the same
    ``HarnessError``, or, for a bug, a ``RuntimeError`` carrying its traceback."""
    # Written by the engine's own child into the staging folder the engine made, which only
    # its user may write.
    what, detail = pickle.loads(refusal.read_bytes())
    if what == _REFUSED:
        return detail
    return RuntimeError(f"the pytest process failed before pytest started:\n{detail}")


def main(argv: list[str]) -> int:
    own, pytest_arguments = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) \
        if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--refusal", type=Path, required=True)
    parser.add_argument("--wait", action="store_true",
                        help="wait for 'go' on standard input before running anything")
    args = parser.parse_args(own)

    from harness.config import load_config
    from harness.errors import HarnessError
    from harness.gates.context import RunContext

    try:
        if not refuse(RunContext.resolve(load_config(args.config), args.profile), args.wait):
            return CANCELLED
    except HarnessError as exc:
        args.refusal.write_bytes(pickle.dumps((_REFUSED, exc)))
        return REFUSED
    except Exception:  # noqa: BLE001 - a bug: the engine raises it with this traceback
        args.refusal.write_bytes(pickle.dumps((_CRASHED, traceback.format_exc())))
        return REFUSED

    import pytest

    code = pytest.main(pytest_arguments)
    sys.stdout.flush()
    return int(code)


if __name__ == "__main__":
    from harness.quick_exit import exit_now

    exit_now(main(sys.argv[1:]))
