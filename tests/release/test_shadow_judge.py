"""The shadow's join and judgments, on logged records built here: pairs by request id and
row, the sequential tests stopping either way, an undecided window inconclusive, and the
fixed-horizon judgments at the end."""

from __future__ import annotations

import random

import pytest

from harness.config import ShadowSpec
from harness.config.loader import load_config
from harness.errors import ConfigError
from harness.gates.outcome import Outcome
from harness.release.shadow_judge import ShadowJudge, Verdict
from harness.release.shadow_logs import Join, Pair
from harness.server.prediction_log import LoggedPrediction
from tests.support.project import write_config

_seq = iter(range(1, 10**9))


def record(request_id: str, probability: float | None = 0.2, label: str | None = "good",
           status: int = 200, latency_ms: float = 5.0, index: int = 0,
           cpu_wait_ms: float | None = None) -> LoggedPrediction:
    return LoggedPrediction(seq=next(_seq), request_id=request_id, index=index, at=0.0,
                            endpoint="/predict", status=status, latency_ms=latency_ms,
                            cpu_wait_ms=cpu_wait_ms,
                            input_sha256="0" * 64, probability=probability, label=label)


def test_the_join_pairs_by_request_id_and_row_in_productions_order() -> None:
    join = Join()
    production = [record("a"), record("b", status=503), record("c"), record("d", index=1)]
    first = join.add(production, [record("c"), record("x")])
    assert [p.production.request_id for p in first] == ["c"]
    later = join.add([], [record("a"), record("d", index=0), record("d", index=1)])
    assert [(p.production.request_id, p.production.index) for p in later] == [("a", 0),
                                                                               ("d", 1)]
    # Production's own failure has nothing to compare with; "d" row 0 was never production's.
    assert join.production_failed == 1 and join.unmatched == 0


def _stream(judge: ShadowJudge, flip_rate: float, shift: float, n: int, seed: int = 1,
            candidate_latency_ms: float = 5.0) -> None:
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        p = rng.random()
        ours = record(f"r{i}", p, "bad" if p >= 0.5 else "good", latency_ms=rng.gauss(5, 0.5))
        q = min(max(p + shift, 0.0), 1.0)
        label = ours.label if rng.random() >= flip_rate else (
            "good" if ours.label == "bad" else "bad")
        theirs = record(f"r{i}", q, label,
                        latency_ms=rng.gauss(candidate_latency_ms, 0.5))
        pairs.append(Pair(ours, theirs))
    for start in range(0, n, 10):  # as the window reads them: a few at a time
        judge.add(pairs[start:start + 10])
        if judge.decided:
            return


def _by_name(judge: ShadowJudge) -> dict:
    return {case.name: case for case in judge.cases()}


def test_an_identical_candidate_passes_early() -> None:
    judge = ShadowJudge(ShadowSpec(min_requests=50))
    _stream(judge, 0.0, 0.0, 2000)
    assert judge.decided and judge.verdict is Verdict.PASS
    assert judge.requests < 2000
    cases = _by_name(judge)
    assert all(case.outcome is Outcome.PASSED for case in cases.values()), cases
    assert cases["agreement"].properties.flips == "none"
    assert "decided after" in cases["agreement"].message


def test_a_candidate_that_disagrees_often_fails_early_naming_the_flips() -> None:
    judge = ShadowJudge(ShadowSpec(min_requests=50))
    _stream(judge, 0.10, 0.0, 2000)
    cases = _by_name(judge)
    assert judge.verdict is Verdict.FAIL and judge.requests < 400
    agreement = cases["agreement"]
    assert agreement.outcome is Outcome.FAILED and agreement.properties.decision == "fail"
    assert "bad→good" in (agreement.properties.flips or "")
    assert "good→bad" in agreement.message and "tolerance 1.00%" in agreement.message


def test_a_shifted_score_fails_the_paired_difference_with_its_interval() -> None:
    judge = ShadowJudge(ShadowSpec(min_requests=50, margin=0.02))
    _stream(judge, 0.0, 0.08, 2000)
    case = _by_name(judge)["score_difference"]
    assert case.outcome is Outcome.FAILED
    low, high = float(case.properties.difference_ci_low), float(case.properties.difference_ci_high)
    # Wholly beyond the margin (the figure is rounded to 4 decimals).
    assert 0.02 <= low <= float(case.properties.difference) <= high
    assert "margin ±0.02" in case.message


def test_too_few_requests_are_inconclusive_never_a_pass() -> None:
    judge = ShadowJudge(ShadowSpec(min_requests=50))
    _stream(judge, 0.0, 0.0, 20)
    cases = _by_name(judge)
    assert not judge.decided and judge.verdict is Verdict.INCONCLUSIVE
    agreement = cases["agreement"]
    assert agreement.outcome is Outcome.FAILED and agreement.properties.decision == "inconclusive"
    assert "release.shadow.min_requests (50)" in agreement.message
    warned = ShadowJudge(ShadowSpec(min_requests=50, on_inconclusive="warn"))
    _stream(warned, 0.0, 0.0, 20)
    assert _by_name(warned)["agreement"].outcome is Outcome.PASSED
    assert warned.verdict is Verdict.INCONCLUSIVE


def test_an_undecided_test_says_how_many_more_requests_it_needs() -> None:
    judge = ShadowJudge(ShadowSpec(min_requests=10, tolerance=0.05))
    _stream(judge, 0.0, 0.0, 30)
    case = _by_name(judge)["agreement"]
    assert case.properties.decision == "inconclusive"
    assert case.properties.rows_needed and "more joined requests would decide it" in case.message


def test_a_slower_candidate_fails_on_latency_and_failures_on_errors() -> None:
    judge = ShadowJudge(ShadowSpec(min_requests=50, latency_margin_ms=10))
    _stream(judge, 0.0, 0.0, 200, candidate_latency_ms=40.0)
    judge.add([Pair(record("e1"), record("e1", None, None, status=500))])
    cases = _by_name(judge)
    assert cases["latency"].outcome is Outcome.FAILED
    assert 30 < float(cases["latency"].properties.difference) < 40
    assert cases["errors"].outcome is Outcome.FAILED and "failed 1" in cases["errors"].message


def _waiting_window(candidate_wait_ms: float, candidate_own_ms: float,
                    production_logs_waits: bool = True) -> ShadowJudge:
    """Production answers in 5 ms of its own; the candidate in ``candidate_own_ms`` of its
    own plus ``candidate_wait_ms`` spent waiting for a CPU (a niced shadow on a busy host)."""
    judge = ShadowJudge(ShadowSpec(min_requests=50, latency_margin_ms=10))
    rng = random.Random(5)
    pairs = []
    for i in range(200):
        production_wait = rng.uniform(0, 1)
        candidate_wait = rng.uniform(0, 2 * candidate_wait_ms)
        pairs.append(Pair(
            record(f"w{i}", latency_ms=rng.gauss(5, 0.5) + production_wait,
                   cpu_wait_ms=production_wait if production_logs_waits else None),
            record(f"w{i}", latency_ms=rng.gauss(candidate_own_ms, 0.5) + candidate_wait,
                   cpu_wait_ms=candidate_wait)))
    judge.add(pairs)
    return judge


def test_latency_is_judged_net_of_the_hosts_waits_for_a_cpu() -> None:
    # 30 ms of waiting on average, none of it the candidate's own doing: a pass.
    latency = _by_name(_waiting_window(candidate_wait_ms=30, candidate_own_ms=5))["latency"]
    assert latency.outcome is Outcome.PASSED, latency.message
    assert "net of waits for a CPU" in latency.message
    assert abs(float(latency.properties.difference)) < 1
    # The same waits on a candidate 20 ms slower of its own: still a failure.
    slower = _by_name(_waiting_window(candidate_wait_ms=30, candidate_own_ms=25))["latency"]
    assert slower.outcome is Outcome.FAILED, slower.message
    assert 18 < float(slower.properties.difference) < 22


def test_latency_is_not_netted_when_a_log_leaves_the_waits_out() -> None:
    # A team's server that does not log its waits: the raw latencies, and the message says so.
    latency = _by_name(_waiting_window(30, 5, production_logs_waits=False))["latency"]
    assert latency.outcome is Outcome.FAILED
    assert "not netted out" in latency.message


def test_nothing_joined_is_never_a_pass() -> None:
    judge = ShadowJudge(ShadowSpec())
    assert judge.verdict is not Verdict.PASS
    assert _by_name(judge)["errors"].outcome is Outcome.FAILED


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("tolerance", 0, "release.shadow.tolerance"), ("margin", 1.5, "release.shadow.margin"),
    ("alpha", 0.7, "release.shadow.alpha"), ("mirror_timeout_ms", 0,
                                             "release.shadow.mirror_timeout_ms"),
    ("min_requests", 0, "release.shadow.min_requests"), ("unknown", 1, "unknown")])
def test_a_bad_shadow_setting_names_its_key(tmp_path, key: str, value: object,
                                            expected: str) -> None:
    path = write_config(tmp_path, release={"shadow": {key: value}})
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        load_config(path)


def _sampled_window(percent: int, answered_share: float, n: int = 400,
                    seed: int = 5) -> ShadowJudge:
    """Production logs ``n`` answers; the candidate logs those a mirror copying
    ``answered_share`` of them would reach, joined as the window joins them."""
    rng = random.Random(seed)
    judge = ShadowJudge(ShadowSpec(min_requests=10), mirror_percent=percent)
    join = Join()
    production = [record(f"m{i}") for i in range(n)]
    candidate = [record(r.request_id) for r in production if rng.random() < answered_share]
    judge.add(join.add(production, candidate))
    judge.unanswered = join.unmatched
    return judge


def test_a_sampled_mirror_counts_the_rest_as_unmirrored_not_as_errors() -> None:
    judge = _sampled_window(percent=25, answered_share=0.25)
    errors = _by_name(judge)["errors"]
    assert errors.outcome is Outcome.PASSED, errors.message
    mirrored = judge.requests
    assert 70 < mirrored < 130 and judge.unanswered == 400 - mirrored
    assert f"{mirrored} of 400 requests production answered were mirrored" in errors.message
    assert "mirror_percent 25" in errors.message
    assert errors.properties.extra == {"mirrored": str(mirrored),
                                       "unmirrored": str(400 - mirrored),
                                       "mirror_percent": "25"}
    summary = judge.summary_json(_candidate(), "production")
    assert f'"mirrored": {mirrored}' in summary and f'"unmirrored": {400 - mirrored}' in summary
    # Every request mirrored: the same missing answers are the candidate's errors.
    everything = _sampled_window(percent=100, answered_share=0.25)
    assert _by_name(everything)["errors"].outcome is Outcome.FAILED
    assert f"left {400 - mirrored} unanswered" in _by_name(everything)["errors"].message


def test_fewer_answers_than_the_percent_sends_fail_as_lost_requests() -> None:
    judge = _sampled_window(percent=50, answered_share=0.05)
    errors = _by_name(judge)["errors"]
    assert errors.outcome is Outcome.FAILED
    assert "the candidate loses requests" in errors.message
    assert float(errors.properties.p_value) < 0.05


def _candidate():
    from pathlib import Path

    from harness.candidate.identity import Candidate

    return Candidate(id="c0ffee", artifact=Path("artifact"), artifact_sha256="0" * 64)


# -- the noise floor: production, the candidate and production's copy ----------------------

def test_the_triple_join_waits_for_all_three_answers() -> None:
    from harness.release.shadow_logs import TripleJoin

    join = TripleJoin()
    first = join.add([record("a"), record("b"), record("c", status=500)],
                     [record("a"), record("b")], [record("b")])
    assert [t.production.request_id for t in first] == ["b"]
    assert join.unmatched == 1  # "a" waits for the copy; production's failure is left out
    later = join.add([], [], [record("a"), record("z")])
    assert [(t.production.request_id, t.shadow.request_id, t.copy.request_id)
            for t in later] == [("a", "a", "a")]
    assert join.unmatched == 0 and join.production_failed == 1
    assert len(join.triples) == 2
    # A request only the copy missed is not the candidate's to answer for.
    join.add([record("d"), record("e")], [record("d")], [])
    assert (join.unmatched, join.shadow_unmatched, join.copy_unmatched) == (2, 1, 1)


def _noisy(judge: ShadowJudge, candidate_flips: float, copy_flips: float, n: int,
           seed: int = 2, jitter: float = 0.02) -> None:
    """A nondeterministic model: the candidate and production's copy each decide
    otherwise than production at their own rate, their scores jittered."""
    from harness.release.shadow_logs import Triple

    rng = random.Random(seed)

    def again(ours: LoggedPrediction, flips: float) -> LoggedPrediction:
        label = ours.label if rng.random() >= flips else (
            "good" if ours.label == "bad" else "bad")
        jittered = min(max((ours.probability or 0) + rng.uniform(-jitter, jitter), 0.0), 1.0)
        return record(ours.request_id, jittered, label)

    triples = []
    for i in range(n):
        p = rng.random()
        ours = record(f"n{i}", p, "bad" if p >= 0.5 else "good")
        triples.append(Triple(ours, again(ours, candidate_flips), again(ours, copy_flips)))
    for start in range(0, n, 50):
        judge.add_triples(triples[start:start + 50])
        if judge.decided:
            return


def test_a_candidate_as_noisy_as_production_passes_on_its_excess() -> None:
    spec = ShadowSpec(min_requests=50, tolerance=0.03)
    plain = ShadowJudge(spec, noise_floor=False)
    # Judged plainly, production's own noise (6 % flips) fails the candidate ...
    _stream(plain, 0.06, 0.0, 3000)
    assert plain.verdict is Verdict.FAIL
    # ... judged on its excess over production's copy, the same noise passes.
    judge = ShadowJudge(spec, noise_floor=True)
    _noisy(judge, 0.06, 0.06, 6000)
    cases = _by_name(judge)
    assert judge.decided and judge.verdict is Verdict.PASS, cases
    assert list(cases) == ["agreement", "score_difference", "noise_floor",
                           "score_distribution", "latency", "errors"]
    agreement = cases["agreement"]
    assert agreement.properties.metric == "excess_disagreement"
    assert "production's copy on" in agreement.message and "noise floor" in agreement.message
    floor = cases["noise_floor"]
    assert floor.outcome is Outcome.PASSED
    assert 0.04 < float(floor.properties.value) < 0.08, floor.message
    assert "decided otherwise than production on" in floor.message
    summary = judge.summary_json(_candidate(), "production")
    assert '"noise_floor": {' in summary and '"copy_disagreed"' in summary


def test_a_candidate_noisier_than_production_fails_on_its_excess() -> None:
    judge = ShadowJudge(ShadowSpec(min_requests=50, tolerance=0.03), noise_floor=True)
    _noisy(judge, 0.20, 0.05, 4000)
    cases = _by_name(judge)
    assert judge.verdict is Verdict.FAIL and judge.requests < 1000
    agreement = cases["agreement"]
    assert agreement.outcome is Outcome.FAILED
    assert float(agreement.properties.ci_low) > 0.03


def test_a_deterministic_models_floor_is_zero() -> None:
    judge = ShadowJudge(ShadowSpec(min_requests=50, tolerance=0.03), noise_floor=True)
    _noisy(judge, 0.0, 0.0, 3000, jitter=0.0)
    floor = _by_name(judge)["noise_floor"]
    assert float(floor.properties.value) == 0 and "flips: none" in floor.message
    assert "its scores differed by 0.0000" in floor.message
    assert judge.verdict is Verdict.PASS


def test_with_a_noise_floor_latency_is_judged_against_productions_copy() -> None:
    # Both shadows answer 30 ms slower than production (they queue behind it on one
    # machine): against production the candidate is slower, against its copy it is not.
    from harness.release.shadow_logs import Triple

    judge = ShadowJudge(ShadowSpec(min_requests=10, latency_margin_ms=10), noise_floor=True)
    rng = random.Random(3)
    judge.add_triples([Triple(record(f"l{i}", latency_ms=rng.gauss(5, 0.5)),
                              record(f"l{i}", latency_ms=rng.gauss(35, 2)),
                              record(f"l{i}", latency_ms=rng.gauss(35, 2)))
                       for i in range(200)])
    latency = _by_name(judge)["latency"]
    assert latency.outcome is Outcome.PASSED
    assert "candidate - production's copy latency" in latency.message
    assert abs(float(latency.properties.difference)) < 5


def test_triples_need_a_noise_floor_judge() -> None:
    with pytest.raises(ValueError, match="noise_floor=True"):
        ShadowJudge(ShadowSpec()).add_triples([])
