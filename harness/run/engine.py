"""Run a profile: pytest in its own process over the gate items and the team's tests,
writing JUnit into the profile's report folder, then the verdict read back from it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.config import HarnessConfig
from harness.gates.context import RunContext
from harness.run import pytest_process
from harness.run.report.ahead import Ahead

if TYPE_CHECKING:
    from harness.attest.keys import Signer
    from harness.deploy.target import Deployment
    from harness.run.report import ReportFiles
    from harness.run.verdict import Verdict

# What the run imports once pytest has ended (SQLAlchemy, junitparser, matplotlib), imported
# while it runs.
_AFTER_PYTEST = ("harness.history.store", "harness.run.evidence", "harness.run.recording",
                 "harness.run.verdict", "harness.run.report.page", "harness.run.report.content",
                 "harness.run.report.summary")
# pytest exit codes that mean the run itself broke, not that tests failed.
_PYTEST_BROKEN = {2: "was interrupted", 3: "hit an internal error", 4: "was called wrongly"}


@dataclass(frozen=True)
class CheckRun:
    """The outcome of ``harness check``: where its reports are and what they say."""

    profile: str
    reports_dir: Path
    junit: list[Path]
    log: Path
    verdict: Verdict
    run_id: int
    evidence: Path | None = None
    report: ReportFiles | None = None
    attestation: Path | None = None  # the signed test result, when the release checks passed
    candidate_id: str = ""  # as history records it; `harness promote --candidate` takes it


def pytest_arguments(context: RunContext, junit: Path) -> list[str]:
    """pytest's arguments: the config (when the profile has checks), the team's tests, and
    the plugin's options."""
    config, profile, spec = context.config, context.profile_name, context.profile
    reports, target_url = context.reports, context.target_url
    return [
        *([str(config.source)] if spec.checks else []),
        *(str(config.resolve(t)) for t in spec.tests),
        f"--harness-config={config.source}",
        f"--harness-profile={profile}",
        f"--junitxml={junit}",
        "-o", f"junit_suite_name=harness-{profile}",
        "-p", "no:cacheprovider",
        # Test ids (and JUnit class names) relative to the team's project, whatever
        # repository or ini file lies above it.
        f"--rootdir={config.root}",
        "-rfE",
        # Locust's pytest plugin is not needed here; Locust runs in its own processes.
        "-p", "no:locust",
        *([f"--harness-reports={reports}"] if reports else []),
        *([f"--harness-target-url={target_url}"] if target_url else []),
        *(_load_arguments(config) if "load" in spec.checks else []),
    ]


def _load_arguments(config: HarnessConfig) -> list[str]:
    """The load check's distribution as the engine's config has it (`harness check
    --remote-workers/--master-bind` may have changed it), for the pytest process, which reads
    harness.yaml again."""
    load = config.load
    return [f"--harness-remote-workers={load.remote_workers}",
            *([f"--harness-master-bind={load.master_bind}"] if load.master_bind else [])]


def run_check(config: HarnessConfig, profile: str, reports_root: Path,
              stream: bool = False, target_url: str | None = None) -> CheckRun:
    """Run one profile. Reports are written to a staging folder that replaces the profile's
    previous reports only at the end, so an interrupted run leaves the last complete set."""
    context = RunContext.resolve(config, profile, target_url)
    # pytest runs from the config's folder: a relative folder means the caller's, not that.
    reports_root = reports_root.absolute()
    environment = context.environment
    # The pytest process proves the team's entry point imports, before pytest starts, when
    # nothing else refuses the run: the model is imported once (run/pytest_process.py).
    in_pytest = pytest_process.proves_entry_point(context)
    made: list[Path] = []
    staging: Path | None = None
    early: subprocess.Popen[bytes] | None = None
    history = None
    try:
        if in_pytest:
            # Started first, waiting: its start-up overlaps the refusals below, and it runs
            # or records nothing until told to go.
            made, staging = _stage(reports_root, profile)
            early = _start_pytest(_command(context, staging, in_pytest), config)
        before = _refuse(context, entry_point=not in_pytest)
        # Last of the refusals: a local-only signing key is made on first use, and a run
        # refused above (another project's service, say) must leave nothing behind.
        signer = _release_signer(config, profile, environment)
        if not in_pytest:  # else made (or migrated) by the pytest process, after go
            from harness.history import HistoryStore

            history = HistoryStore(config.history_url())
            made, staging = _stage(reports_root, profile)
    except BaseException:
        # Refused (or interrupted): the waiting pytest process is stopped, and nothing of
        # the run is left.
        if early is not None:
            _cancel(early)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
            _remove_made(made)
        raise
    assert staging is not None
    started = time.monotonic()
    final = reports_root / profile
    # The report's slow parts (and what the rest of the run imports), while pytest runs.
    ahead = Ahead.start(staging, _AFTER_PYTEST, config.state_dir() / "cache" / "pictures")
    try:
        junit = staging / "junit" / "checks.xml"
        refusal = staging / "refusal.pickle"
        if early is not None:
            _go(early)
        process = early or _start_pytest(_command(context, staging, False), config)
        returncode = _follow(process, staging / "pytest.log", stream)
        if in_pytest and refusal.exists():
            error = pytest_process.read_refusal(refusal)
            shutil.rmtree(staging)
            _remove_made(made)  # refused: nothing of the run is left, as before pytest
            raise error
        ahead.stop()
        problems = []
        if returncode in _PYTEST_BROKEN:
            problems.append(f"pytest {_PYTEST_BROKEN[returncode]} (exit {returncode}); "
                            f"see {final / 'pytest.log'}")
        if not junit.exists():
            problems.append(f"pytest wrote no JUnit report; see {final / 'pytest.log'}")
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        ahead.abandon()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    from harness.history import HistoryStore
    from harness.run.evidence import deployed, deployment_problems, write_bundle
    from harness.run.recording import run_record
    from harness.run.report import write_report
    from harness.run.verdict import decide

    junit_files = sorted((final / "junit").glob("*.xml"))
    if environment is not None:
        problems.extend(deployment_problems(environment, before,
                                            deployed(config, environment)))
    verdict = decide(junit_files, problems)
    tested = before.candidate if before is not None else None
    record = run_record(config, profile, verdict, time.monotonic() - started, tested)
    history = history or HistoryStore(config.history_url())
    run_id = history.record_run(record)
    # The report is written before the evidence bundle, which digests every report file.
    report = write_report(config, profile, final, history, ahead.models(final))
    evidence = attestation = None
    if environment is not None and tested is not None:
        from harness.data.digests import identity_digests

        evidence, bundle = write_bundle(final, tested, environment, profile, verdict.passed,
                                        run_id, identity_digests(config), history, config.root)
        if signer is not None and verdict.passed:
            from harness.attest.release import sign_test_result

            attestation = sign_test_result(
                config, signer, tested, [(c.title, str(c.status)) for c in verdict.cases],
                evidence, bundle.reports, {"profile": profile, "environment": environment,
                                           "runId": run_id})
    history.close()
    return CheckRun(profile, final, junit_files, final / "pytest.log", verdict, run_id,
                    evidence, report, attestation, record.candidate_id)


def _refuse(context: RunContext, entry_point: bool) -> Deployment | None:
    """The refusals before pytest: every input (the entry point's import left to the
    pytest process unless ``entry_point``), the identity of the service an environment
    runs, its protocol; the deepchecks environment made. What is deployed in the profile's
    environment, if it checks one."""
    from harness.model.probe import check_service_protocol
    from harness.run.preflight import check_inputs

    config, environment = context.config, context.environment
    check_inputs(context, entry_point)  # refused once, before anything is written
    before = None
    if environment is not None:
        # Here: the deploy state's reader opens the history store (SQLAlchemy).
        from harness.run.evidence import deployed
        from harness.run.identity import check_identity

        before = deployed(config, environment)
        check_identity(context, before)  # another service is refused before anything runs
    check_service_protocol(config, context.profile.checks, context.target_url)
    if "deepchecks" in context.profile.checks:
        from harness.gates import deepchecks_env

        # Created here, once, so its one line is on the console and not in pytest's log.
        deepchecks_env.ensure(announce=print)
    return before


def _make_folder(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; the ones made, innermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_made(made: list[Path]) -> None:
    """Remove the folders ``_make_folder`` made, while they are empty (another run may be
    writing in one)."""
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            return


def _release_signer(config: HarnessConfig, profile: str,
                    environment: str | None) -> Signer | None:
    """The key the release checks sign their test result with; None for other runs."""
    if environment is None or profile != config.release.staging_profile:
        return None
    from harness.attest.keys import signer

    return signer(config)


def _stage(reports_root: Path, profile: str) -> tuple[list[Path], Path]:
    """The run's staging folder in ``reports_root`` (made, with its missing parents: the
    folders made, innermost first, for ``_remove_made``), with its ``junit`` folder."""
    made = _make_folder(reports_root)
    staging = Path(tempfile.mkdtemp(prefix=f".{profile}-", dir=reports_root))
    # mkdtemp makes a private folder; a team's Jenkins may read reports as another user.
    staging.chmod(0o755)
    (staging / "junit").mkdir()
    return made, staging


def _command(context: RunContext, staging: Path, in_pytest: bool) -> list[str]:
    """The pytest process's command line, writing into ``staging``: with ``in_pytest``, the
    one that makes the last refusal and waits for ``go`` (run/pytest_process.py)."""
    arguments = pytest_arguments(replace(context, reports=staging),
                                 staging / "junit" / "checks.xml")
    if in_pytest:
        return pytest_process.command(context, staging / "refusal.pickle", arguments,
                                      wait=True)
    return [sys.executable, "-m", "pytest", *arguments]


def _start_pytest(command: list[str], config: HarnessConfig) -> subprocess.Popen[bytes]:
    """Start the pytest process; its output is read by ``_follow``. Its standard input is a
    pipe: a process started with ``--wait`` reads ``go`` from it (``_go``)."""
    return subprocess.Popen(command, cwd=config.root, env=config.child_env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def _go(process: subprocess.Popen[bytes]) -> None:
    """Tell a waiting pytest process to run. It may have ended already, refusing the run
    (its entry point did not import): its refusal is read once it has ended."""
    assert process.stdin is not None
    try:
        process.stdin.write(pytest_process.GO)
        process.stdin.close()
    except BrokenPipeError:
        pass


def _cancel(process: subprocess.Popen[bytes]) -> None:
    """Stop a waiting pytest process: it has run and recorded nothing yet."""
    process.kill()
    process.communicate()


def _follow(process: subprocess.Popen[bytes], log: Path, stream: bool) -> int:
    """Wait for pytest, keeping its output in ``log`` and, if ``stream``, on the console
    too."""
    with log.open("wb") as out, process:
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()  # pytest reads no input
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if stream:
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
    return process.returncode
