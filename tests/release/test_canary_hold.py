"""The rules of a canary held before its last step, from files: a staged candidate's
evidence (tests/support/staged.py) and the lock a held ``harness canary`` leaves, written as
it writes it. What each command makes of it: status says held (not interrupted), recover
and promote leave it alone, resume refuses what is not held or no longer what was held,
abort gives it up. The real hold and resume, with nginx and Locust, are in test_canary.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.candidate.publish import candidate_from_reference
from harness.config import HarnessConfig
from harness.errors import HarnessError
from harness.history import HistoryStore
from harness.history.release import Lock
from harness.release.recovery import LOCK, CanaryHold, PromotionJournal
from tests.support.cli import in_process
from tests.support.oci_registry import RunningRegistry, registry_fixture
from tests.support.published import publish
from tests.support.staged import audit, release_project, stage

HOLD = CanaryHold(2, (10.0, 50.0, 100.0), "2026-12-07T21:00:00+00:00", "jenkins",
                  "a" * 64, 1, ({"classname": "canary", "name": "step_1_10_percent",
                               "outcome": "passed", "message": "10 % to the canary",
                               "properties": [["decision", "pass"]]},))


@pytest.fixture
def release(tmp_path: Path, model_artifact: Path) -> HarnessConfig:
    return release_project(tmp_path / "project", model_artifact)


def _hold(config: HarnessConfig, candidate: str) -> Lock:
    """The lock a held canary leaves: its journal naming the hold."""
    lock = Lock(HistoryStore(config.history_url()), LOCK, "jenkins")
    lock.acquire(PromotionJournal(candidate, "held at step 2 of 3 (50 %)", None, canary=True,
                                  hold=HOLD).to_dict())
    return lock


def _run(config: HarnessConfig, *args: str) -> tuple[int, str, str]:
    result = in_process(config.source, *args, cwd=config.root)
    return result.returncode, result.stdout, result.stderr


def _refused(config: HarnessConfig, *args: str) -> str:
    code, out, err = _run(config, *args)
    assert code == 2 and out == "", out + err
    assert err.count("harness: error:") == 1 and "Traceback" not in err
    return err


def test_a_hold_reads_back_from_the_journal_and_a_bad_one_says_so() -> None:
    journal = PromotionJournal("c0ffee", "held", None, canary=True, hold=HOLD)
    assert PromotionJournal.from_dict(journal.to_dict()) == journal
    assert HOLD.percent == 50.0
    assert HOLD.describe().startswith("held at 50 % (step 2 of 3) since 2026-12-07T21:00")
    at_the_last = journal.to_dict() | {"hold": HOLD.to_dict() | {"step": 3}}
    with pytest.raises(HarnessError, match="journal cannot be read"):
        PromotionJournal.from_dict(at_the_last)


def test_a_held_canary_is_reported_left_alone_and_resumed_only_as_what_it_was(
        release: HarnessConfig, second_artifact: Path) -> None:
    staged = stage(release)
    lock = _hold(release, staged.id)
    code, out, _ = _run(release, "status")
    assert code == 0, out  # awaiting an approval is no fault
    assert f"a canary of candidate {staged.id} is held at 50 % (step 2 of 3) since" in out
    assert "awaiting approval before its last step (100 %)" in out
    assert "the canary no longer runs" in out and "interrupted" not in out

    code, out, _ = _run(release, "recover", "--by", "ben")
    assert code == 0 and "is held at 50 %" in out
    err = _refused(release, "promote", "--candidate", staged.id, "--approver", "ana")
    assert f"a canary of candidate {staged.id} is held at 50 %" in err
    assert "`harness canary --env production --resume --approver NAME` runs the last step" in err

    other = stage(release, second_artifact)
    err = _refused(release, "canary", "--env", "production", "--resume", "--approver", "ana",
                   "--candidate", other.id)
    assert f"is candidate {staged.id} (artifact aaaaaaaaaaaa...), not {other.id}" in err
    err = _refused(release, "canary", "--env", "production", "--resume", "--approver", "ana")
    assert "cannot resume the canary" in err and "the held canary no longer runs" in err
    assert "harness canary --env production --abort` gives it up" in err
    held = lock.read()
    assert held is not None and held.journal["hold"] == HOLD.to_dict(), "the hold is kept"

    code, out, _ = _run(release, "canary", "--env", "production", "--abort", "--by", "ben")
    assert code == 0 and "was given up by ben: the canary had already stopped" in out
    assert lock.read() is None
    assert audit(release)[-1] == (staged.id, "canary", "aborted")


def test_a_builds_clean_up_gives_up_its_own_hold_only(
        release: HarnessConfig, second_artifact: Path) -> None:
    # What the promote pipeline runs when its build ends without the last step:
    # `--abort --if-held --candidate` its own candidate.
    staged, other = stage(release), stage(release, second_artifact)
    clean_up = ("canary", "--env", "production", "--abort", "--if-held", "--by", "jenkins-7")
    code, out, _ = _run(release, *clean_up, "--candidate", staged.id)
    assert code == 0 and out.strip() == "no canary is held in production: nothing to give up"
    assert audit(release) == [], "nothing to give up is not audited"

    lock = _hold(release, staged.id)
    err = _refused(release, *clean_up, "--candidate", other.id)
    assert f"is candidate {staged.id} (artifact aaaaaaaaaaaa...), not {other.id}" in err
    assert lock.read() is not None, "another build's hold is kept"
    code, out, _ = _run(release, *clean_up, "--candidate", "a" * 12)  # its artifact's digest
    assert code == 0 and "was given up by jenkins-7" in out, out
    assert lock.read() is None
    assert audit(release)[-1] == (staged.id, "canary", "aborted")


def test_nothing_held_is_neither_resumed_nor_aborted(release: HarnessConfig) -> None:
    staged = stage(release)
    err = _refused(release, "canary", "--env", "production", "--resume", "--approver", "ana")
    assert "no canary is held in production awaiting approval (nothing holds the promotion " \
           "lock)" in err
    lock = Lock(HistoryStore(release.history_url()), LOCK, "ana")
    lock.acquire(PromotionJournal(staged.id, "step 1 of 3 (10 %)", None,
                                  canary=True).to_dict())
    err = _refused(release, "canary", "--env", "production", "--abort")
    assert f"(a canary of candidate {staged.id} holds the lock ('step 1 of 3 (10 %)'))" in err
    assert lock.read() is not None, "a running canary is not given up"
    assert [outcome for _, action, outcome in audit(release)] == ["refused", "refused"]


@pytest.mark.parametrize(("args", "says"), [
    (("--candidate", "x", "--hold-before-last", "--approver", "ana"),
     "give --approver to `harness canary --resume`"),
    (("--candidate", "x"), "--approver NAME is needed (or --hold-before-last"),
    (("--approver", "ana"), "a new canary needs --candidate"),
    (("--resume",), "--resume needs --approver NAME"),
    (("--resume", "--approver", "ana", "--by", "ben"), "--by names who runs"),
    (("--resume", "--approver", "ana", "--steps", "10,100"), "no --hold-before-last, --steps"),
    (("--abort", "--approver", "ana", "--replay-golden"),
     "--abort takes no --approver, --replay-golden"),
    (("--resume", "--approver", "ana", "--if-held"), "--if-held goes with --abort only"),
])
def test_options_that_do_not_go_together_are_refused(release: HarnessConfig,
                                                     args: tuple[str, ...], says: str) -> None:
    assert says in _refused(release, "canary", "--env", "production", *args)
    assert not (release.root / ".harness").exists(), "nothing recorded"


def test_a_hold_needs_a_step_before_the_last(release: HarnessConfig,
                                             model_artifact: Path) -> None:
    err = _refused(release, "canary", "--env", "production", "--candidate",
                   str(model_artifact), "--hold-before-last", "--steps", "100")
    assert "--hold-before-last needs two steps or more" in err


registry = pytest.fixture(registry_fixture)


def test_resume_reads_a_published_reference_as_the_candidate_it_names(
        tmp_path: Path, model_artifact: Path, second_artifact: Path,
        registry: RunningRegistry) -> None:
    """The Jenkins step resumes (and a failed build gives up) with its build's CANDIDATE, a
    reference: it is the held candidate when it names it, and refused when it names
    another."""
    release = release_project(tmp_path / "project", model_artifact,
                              registry={"host": registry.host, "repository": "credit/model",
                                        "insecure": True})
    held = publish(release)
    other = publish(release, "--artifact", str(second_artifact))
    staged = stage(release, candidate=candidate_from_reference(release, held))
    _hold(release, staged.id)
    err = _refused(release, "canary", "--env", "production", "--resume", "--approver", "ana",
                   "--candidate", other)
    assert f"the canary held in production is candidate {staged.id}" in err
    err = _refused(release, "canary", "--env", "production", "--resume", "--approver", "ana",
                   "--candidate", held)
    assert "the held canary no longer runs" in err, "past the candidate's check"
    # The build's clean-up reads its CANDIDATE the same way: another's hold is kept.
    err = _refused(release, "canary", "--env", "production", "--abort", "--if-held",
                   "--candidate", other)
    assert f"the canary held in production is candidate {staged.id}" in err
    code, out, _ = _run(release, "canary", "--env", "production", "--abort", "--if-held",
                        "--candidate", held)
    assert code == 0 and f"the canary of candidate {staged.id}" in out, out
