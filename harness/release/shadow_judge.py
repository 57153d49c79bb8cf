"""The judgments of a shadow window, request by request: one JUnit testcase each.

- ``agreement``: the share of requests on which the candidate decides otherwise than
  production (its label; at the model's threshold for a binary model), against
  ``release.shadow.tolerance``, with the flips counted per direction;
- ``score_difference``: the paired difference of the scores (the probability of the
  positive class, or of the most probable one), against ``margin``, with its interval (a
  regression's value is unbounded: not judged here);
- ``score_distribution``: the two samples of scores, a two-sample Kolmogorov-Smirnov test;
- ``latency``: the two samples of server-side latency, Mann-Whitney with the Hodges-Lehmann
  shift (as Kayenta judges a canary), against ``latency_margin_ms``. When both logs say how
  long each request waited for a CPU (``cpu_wait_ms``), the latencies are compared net of
  it: a shadow shares the host's cores, and at a lower niceness it waits for them more
  than production does, which is the host's doing, not the candidate's;
- ``errors``: the candidate's failed or missing answers where production answered. When
  the mirror copies only ``mirror_percent`` of the requests (the Gateway API's
  ``RequestMirror`` percent, on Kubernetes), a production answer without the candidate's is
  counted as unmirrored, not as the candidate's error, and the testcase says how many were
  mirrored; it fails when the candidate's answers are surely fewer than that percent
  would send (an exact binomial test at ``alpha``): then the candidate loses requests.

With a noise floor (``noise_floor``: a copy of production's revision mirrored too, fed as
``Triple``s), ``agreement`` and ``score_difference`` judge the candidate's *excess* over the
copy's, request by request: disagreed with production (1 or 0) minus the copy disagreed
(in [-1, 1], at ``tolerance``), and |candidate - production| minus |copy - production| (in
[-1, 1], at ``margin``), each a paired-difference sequential test; a ``noise_floor``
testcase reports the copy's own figures (the A/A comparison, as Diffy does). A
deterministic model's floor is 0, and its excess is its plain difference.

The first two are anytime-valid sequential tests (harness/stats/sequential.py, a betting
confidence sequence): they look at every joined request and may stop the window either
way, their error rates held at ``alpha`` however often they look. The window never stops
before ``min_requests`` joined requests. One that ends before both decide is
inconclusive, never a pass. The last three are fixed-horizon (harness/stats/two_sample.py),
judged once at the end on what the window joined.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from dataclasses import replace
from enum import StrEnum

from harness.candidate.identity import Candidate
from harness.config.release import ShadowSpec
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.release.shadow_logs import Pair, Triple
from harness.run.junit import Case
from harness.server.prediction_log import LoggedPrediction
from harness.stats import sequential, two_sample

CLASSNAME = "shadow"


class Latencies:
    """One side's server-side latencies, with the part of each spent waiting for a CPU
    where its log says (``cpu_wait_ms``)."""

    def __init__(self) -> None:
        self.latency_ms: list[float] = []
        self.wait_ms: list[float] = []  # kept while every record so far carried its wait

    def add(self, record: LoggedPrediction) -> None:
        if record.cpu_wait_ms is not None and self.netted:
            self.wait_ms.append(record.cpu_wait_ms)
        self.latency_ms.append(record.latency_ms)

    @property
    def netted(self) -> bool:
        """Every record carried its wait, so the latencies can be netted of them."""
        return len(self.wait_ms) == len(self.latency_ms)

    def net_ms(self) -> list[float]:
        """The latencies less their waits: what the server took of its own."""
        return [max(0.0, latency - wait) for latency, wait in zip(self.latency_ms,
                                                                  self.wait_ms)]

    def median_wait_ms(self) -> float:
        return statistics.median(self.wait_ms) if self.wait_ms else 0.0


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


def score_of(record: LoggedPrediction) -> float | None:
    """The one number in [0, 1] an answer is compared by: P(positive), else the
    probability of the most probable class; None for a regression's value (unbounded, so
    no bounded-difference test applies to it)."""
    if record.probability is not None:
        return record.probability
    if record.probabilities:
        return max(record.probabilities)
    return None


class ShadowJudge:
    """Takes joined requests as they come; says when the sequential tests have decided,
    and at the end writes every judgment as a testcase."""

    def __init__(self, spec: ShadowSpec, mirror_percent: int = 100,
                 noise_floor: bool = False) -> None:
        """``mirror_percent``: the share of production's requests the mirror copies to
        the candidate (the local nginx copies all; a Gateway copies
        ``release.shadow.mirror_percent``). ``noise_floor``: requests come as ``Triple``s
        (``add_triples``) and the candidate is judged on its excess over production's copy."""
        self.spec = spec
        self.mirror_percent = mirror_percent
        self.noise_floor = noise_floor
        self.floor = _Floor(spec) if noise_floor else None
        self.agreement = sequential.DisagreementTest(tolerance=spec.tolerance,
                                                     alpha=spec.alpha)
        self.difference = sequential.PairedDifferenceTest(margin=spec.margin,
                                                          alpha=spec.alpha)
        self.flips: Counter[tuple[str, str]] = Counter()
        self.production_scores: list[float] = []
        self.candidate_scores: list[float] = []
        self.production_latency = Latencies()
        self.candidate_latency = Latencies()
        self.requests = 0
        self.failed = 0  # the candidate answered with an error
        # Production's answers the candidate never logged (set by the window): its errors
        # when every request is mirrored, else unmirrored (or lost: see _errors_case).
        self.unanswered = 0
        self.labels = 0

    def add(self, pairs: list[Pair]) -> None:
        """Judge ``pairs`` in order. The tests see them one by one (a batch only saves
        recomputing the interval after each)."""
        disagreements: list[bool] = []
        differences: list[float] = []
        for pair in pairs:
            self.requests += 1
            production, candidate = pair.production, pair.shadow
            if pair.shadow_failed:
                self.failed += 1
                continue
            self.production_latency.add(production)
            self.candidate_latency.add(candidate)
            if production.label is not None and candidate.label is not None:
                self.labels += 1
                if production.label != candidate.label:
                    self.flips[(production.label, candidate.label)] += 1
                disagreements.append(production.label != candidate.label)
            ours, theirs = score_of(production), score_of(candidate)
            if ours is not None and theirs is not None:
                self.production_scores.append(ours)
                self.candidate_scores.append(theirs)
                differences.append(theirs - ours)
        if disagreements:
            self.agreement.update_many(disagreements)
        if differences:
            self.difference.update_many(differences)

    def add_triples(self, triples: list[Triple]) -> None:
        """Judge requests answered by production, the candidate and production's copy:
        the candidate's pairs as ``add`` does, and its excess over the copy."""
        if self.floor is None:
            raise ValueError("add_triples needs a judge made with noise_floor=True")
        self.add([triple.pair for triple in triples])
        self.floor.add(triples)

    # -- when to stop ---------------------------------------------------------------------

    def _applying(self) -> list[sequential.SequentialDecision]:
        """Where each sequential test that has seen anything stands."""
        if self.floor is not None:
            return [test.decision() for test, seen in (
                (self.floor.agreement, self.floor.labels),
                (self.floor.difference, self.floor.candidate_distance)) if seen]
        return [test.decision() for test, seen in ((self.agreement, self.labels),
                                                   (self.difference, self.candidate_scores))
                if seen]

    @property
    def decided(self) -> bool:
        """True once the window may stop: ``min_requests`` joined, and a sequential test
        failed or every one that applies passed."""
        if self.requests < self.spec.min_requests:
            return False
        stood = [d.outcome for d in self._applying()]
        if sequential.Outcome.FAIL in stood:
            return True
        return bool(stood) and all(o is sequential.Outcome.PASS for o in stood)

    # -- the judgments --------------------------------------------------------------------

    def cases(self) -> list[Case]:
        if self.floor is not None:
            return [self._excess_agreement_case(), self._excess_difference_case(),
                    self._floor_case(), self._distribution_case(), self._latency_case(),
                    self._errors_case()]
        return [self._agreement_case(), self._difference_case(), self._distribution_case(),
                self._latency_case(), self._errors_case()]

    @property
    def verdict(self) -> Verdict:
        outcomes = [case.properties.decision for case in self.cases()]
        if Verdict.FAIL.value in outcomes:
            return Verdict.FAIL
        if Verdict.INCONCLUSIVE.value in outcomes:
            return Verdict.INCONCLUSIVE
        return Verdict.PASS

    def _three_way(self, name: str, decision: sequential.SequentialDecision, figures: str,
                   properties: GateProperties) -> Case:
        if decision.outcome is sequential.Outcome.CONTINUE or \
                self.requests < self.spec.min_requests:
            needed = decision.needed_more
            more = (f"about {needed} more joined requests would decide it, if they are like "
                    "these" if needed else "the requests so far point to no decision")
            if self.requests < self.spec.min_requests:
                more = (f"fewer than release.shadow.min_requests ({self.spec.min_requests}) "
                        f"were joined; {more}")
            verdict = Verdict.INCONCLUSIVE
            message = f"{figures}: undecided after {self.requests} joined requests; {more}"
            outcome = Outcome.FAILED if self.spec.on_inconclusive == "fail" else Outcome.PASSED
            properties = _with(properties, rows_needed=needed,
                               on_inconclusive=self.spec.on_inconclusive)
        else:
            passed = decision.outcome is sequential.Outcome.PASS
            verdict = Verdict.PASS if passed else Verdict.FAIL
            outcome = Outcome.of(passed)
            message = f"{figures}: {verdict.value}, decided after {decision.n} requests"
        return Case(CLASSNAME, name, outcome, message,
                    _with(properties, decision=verdict.value, rows=self.requests))

    def _agreement_case(self) -> Case:
        if not self.labels:
            return _not_applicable("agreement", "no answer carried a label on both sides")
        rate = sum(self.flips.values()) / self.labels
        flips = ", ".join(f"{a}→{b} {n}" for (a, b), n in sorted(self.flips.items())) or "none"
        figures = (f"the candidate decided otherwise on {sum(self.flips.values())} of "
                   f"{self.labels} requests ({rate:.2%}; tolerance {self.spec.tolerance:.2%}); "
                   f"flips: {flips}")
        decision = self.agreement.decision()
        figures += (f"; {self.agreement.confidence:.0%} confidence sequence "
                    f"[{decision.low:.2%}, {decision.high:.2%}]")
        return self._three_way("agreement", decision, figures,
                               GateProperties(metric="disagreement", value=Figure.of(rate),
                                              ci_low=Figure.of(decision.low),
                                              ci_high=Figure.of(decision.high),
                                              ci_method="betting confidence sequence",
                                              max=Figure.of(self.spec.tolerance),
                                              flips=flips))

    def _difference_case(self) -> Case:
        if not self.candidate_scores:
            return _not_applicable("score_difference", "no answer carried a score on both sides")
        mean = math.fsum(c - p for c, p in zip(self.candidate_scores, self.production_scores,
                                               strict=True)) / len(self.candidate_scores)
        decision = self.difference.decision()
        low, high = decision.low, decision.high
        figures = (f"mean score difference (candidate - production) {mean:+.4f}, "
                   f"{self.difference.confidence:.0%} confidence sequence "
                   f"[{low:+.4f}, {high:+.4f}], margin ±{self.spec.margin:g}")
        return self._three_way("score_difference", decision, figures, GateProperties(
                                   metric="score_difference", difference=Figure.of(mean),
                                   difference_ci_low=Figure.of(low),
                                   difference_ci_high=Figure.of(high),
                                   max_gap=Figure.of(self.spec.margin),
                                   ci_method="betting confidence sequence"))

    def _excess_agreement_case(self) -> Case:
        floor = self.floor
        assert floor is not None
        if not floor.labels:
            return _not_applicable("agreement", "no request carried a label from production, "
                                   "the candidate and its copy")
        ours, copy = floor.candidate_disagreed / floor.labels, floor.copy_disagreed / floor.labels
        decision = floor.agreement.decision()
        flips = ", ".join(f"{a}→{b} {n}" for (a, b), n in sorted(floor.flips.items())) or "none"
        figures = (f"the candidate decided otherwise than production on "
                   f"{floor.candidate_disagreed} of {floor.labels} requests ({ours:.2%}), "
                   f"production's copy on {floor.copy_disagreed} ({copy:.2%}, the noise "
                   f"floor); excess {ours - copy:+.2%}, {floor.agreement.confidence:.0%} "
                   f"confidence sequence [{decision.low:+.2%}, {decision.high:+.2%}], "
                   f"tolerance ±{self.spec.tolerance:.2%}; flips: {flips}")
        return self._three_way("agreement", decision, figures, GateProperties(
            metric="excess_disagreement", value=Figure.of(ours - copy),
            ci_low=Figure.of(decision.low), ci_high=Figure.of(decision.high),
            ci_method="betting confidence sequence", max=Figure.of(self.spec.tolerance),
            flips=flips))

    def _excess_difference_case(self) -> Case:
        floor = self.floor
        assert floor is not None
        if not floor.candidate_distance:
            return _not_applicable("score_difference", "no request carried a score from "
                                   "production, the candidate and its copy")
        n = len(floor.candidate_distance)
        ours, copy = math.fsum(floor.candidate_distance) / n, math.fsum(floor.copy_distance) / n
        decision = floor.difference.decision()
        figures = (f"mean score distance to production: the candidate's {ours:.4f}, "
                   f"production's copy's {copy:.4f} (the noise floor); excess "
                   f"{ours - copy:+.4f}, {floor.difference.confidence:.0%} confidence "
                   f"sequence [{decision.low:+.4f}, {decision.high:+.4f}], margin "
                   f"±{self.spec.margin:g}")
        return self._three_way("score_difference", decision, figures, GateProperties(
            metric="excess_score_distance", difference=Figure.of(ours - copy),
            difference_ci_low=Figure.of(decision.low),
            difference_ci_high=Figure.of(decision.high), max_gap=Figure.of(self.spec.margin),
            ci_method="betting confidence sequence"))

    def _floor_case(self) -> Case:
        """The A/A figures: production against its own copy. Measured, not judged."""
        floor = self.floor
        assert floor is not None
        if not floor.requests:
            return _not_applicable("noise_floor", "no request was answered by production, "
                                   "the candidate and production's copy")
        parts = [(f"production's copy (its own revision) answered {floor.requests} requests "
                  "beside the candidate")]
        if floor.labels:
            flips = ", ".join(f"{a}→{b} {n}" for (a, b), n in
                              sorted(floor.copy_flips.items())) or "none"
            parts.append(f"decided otherwise than production on {floor.copy_disagreed} of "
                         f"{floor.labels} ({floor.copy_disagreed / floor.labels:.2%}; flips: "
                         f"{flips})")
        if floor.copy_distance:
            n = len(floor.copy_distance)
            parts.append(f"its scores differed by {math.fsum(floor.copy_distance) / n:.4f} "
                         f"on average (mean signed {math.fsum(floor.copy_shift) / n:+.4f})")
        if floor.copy_failed or floor.copy_unanswered:
            parts.append(f"it failed {floor.copy_failed} and left {floor.copy_unanswered} "
                         "unanswered (left out of the comparison, not the candidate's errors)")
        message = "; ".join(parts) + ("; the candidate is judged on its excess over these "
                                      "(a deterministic model's floor is 0)")
        rate = floor.copy_disagreed / floor.labels if floor.labels else None
        return Case(CLASSNAME, "noise_floor", Outcome.PASSED, message, GateProperties(
            metric="aa_disagreement", value=Figure.of(rate) if rate is not None else None,
            rows=floor.requests, failures=floor.copy_failed,
            flips=", ".join(f"{a}→{b} {n}" for (a, b), n in sorted(floor.copy_flips.items()))
            or "none"))

    def _distribution_case(self) -> Case:
        if len(self.candidate_scores) < 2:
            return _not_applicable("score_distribution", "fewer than two scores on each side")
        test = two_sample.ks_two_sample(self.candidate_scores, self.production_scores)
        passed = not test.p_value < self.spec.alpha
        message = (f"two-sample Kolmogorov-Smirnov D = {test.statistic:.4f}, "
                   f"p = {test.p_value:.3g} on {len(self.candidate_scores)} pairs "
                   f"({'same' if passed else 'different'} at alpha {self.spec.alpha:g})")
        return Case(CLASSNAME, "score_distribution", Outcome.of(passed), message,
                    GateProperties(metric="ks_statistic", value=Figure.of(test.statistic),
                                   p_value=Figure.of(test.p_value, ".4g"),
                                   rows=len(self.candidate_scores),
                                   decision="pass" if passed else "fail"))

    def _latency_case(self) -> Case:
        # With a noise floor the baseline is production's copy: served as the candidate is
        # (beside production, mirrored, at the same niceness), so the cost of being a
        # shadow on a shared machine is in both samples, not counted against the candidate.
        candidate, baseline, against = self.candidate_latency, self.production_latency, \
            "production"
        if self.floor is not None:
            candidate, baseline = self.floor.candidate_latency, self.floor.copy_latency
            against = "production's copy"
        if len(candidate.latency_ms) < 2:
            return _not_applicable("latency", "fewer than two answers on each side")
        net = candidate.netted and baseline.netted
        ours, theirs = ((candidate.net_ms(), baseline.net_ms()) if net
                        else (candidate.latency_ms, baseline.latency_ms))
        test = two_sample.mann_whitney(ours, theirs, confidence=1 - self.spec.alpha)
        slower = test.p_value < self.spec.alpha and test.shift > self.spec.latency_margin_ms
        message = (f"candidate - {against} latency{' net of waits for a CPU' if net else ''}, "
                   f"Hodges-Lehmann shift {test.shift:+.2f} ms [{test.shift_low:+.2f}, "
                   f"{test.shift_high:+.2f}], Mann-Whitney p = {test.p_value:.3g} on "
                   f"{len(ours)} pairs; margin {self.spec.latency_margin_ms:g} ms")
        if net:
            raw = two_sample.hodges_lehmann_shift(candidate.latency_ms, baseline.latency_ms)
            message += (f"; median wait for a CPU {candidate.median_wait_ms():.2f} ms "
                        f"(candidate), {baseline.median_wait_ms():.2f} ms ({against}); "
                        f"shift before netting {raw:+.2f} ms")
        else:
            message += "; waits for a CPU not logged by both, so not netted out"
        return Case(CLASSNAME, "latency", Outcome.of(not slower), message,
                    GateProperties(metric="latency_ms", difference=Figure.of(test.shift, ".2f"),
                                   difference_ci_low=Figure.of(test.shift_low, ".2f"),
                                   difference_ci_high=Figure.of(test.shift_high, ".2f"),
                                   p_value=Figure.of(test.p_value, ".4g"),
                                   max_gap=Figure.of(self.spec.latency_margin_ms, ".2f"),
                                   rows=len(ours),
                                   decision="fail" if slower else "pass"))

    def _errors_case(self) -> Case:
        if self.mirror_percent < 100:
            return self._sampled_errors_case()
        bad = self.failed + self.unanswered
        asked = self.requests + self.unanswered
        if not asked:
            return _nothing_joined()
        rate = bad / asked
        passed = rate <= self.spec.max_error_rate
        message = (f"the candidate failed {self.failed} and left {self.unanswered} "
                   f"unanswered of {asked} requests production answered ({rate:.2%}; "
                   f"allowed {self.spec.max_error_rate:.2%})")
        return Case(CLASSNAME, "errors", Outcome.of(passed), message,
                    GateProperties(metric="error_rate", value=Figure.of(rate),
                                   max=Figure.of(self.spec.max_error_rate), failures=bad,
                                   requests=asked, decision="pass" if passed else "fail"))

    def _sampled_errors_case(self) -> Case:
        """The errors when the mirror copies only a share: the candidate's failures among
        the requests it answered; a production answer without the candidate's is
        unmirrored, unless the candidate's answers are surely fewer than the share sends."""
        production = self.requests + self.unanswered
        if not self.requests:
            return _nothing_joined(f" ({production} production answers, mirror_percent "
                                   f"{self.mirror_percent})")
        share = self.mirror_percent / 100
        rate = self.failed / self.requests
        # P(at most this many mirrored | the percent): small when answers go missing.
        p_value = two_sample.binomial_at_most(self.requests, production, share)
        lost = p_value < self.spec.alpha
        passed = rate <= self.spec.max_error_rate and not lost
        message = (f"{self.requests} of {production} requests production answered were "
                   f"mirrored and answered by the candidate ({self.requests / production:.1%}; "
                   f"mirror_percent {self.mirror_percent}), {self.unanswered} unmirrored; "
                   f"the candidate failed {self.failed} of its {self.requests} ({rate:.2%}; "
                   f"allowed {self.spec.max_error_rate:.2%})")
        if lost:
            message += (f"; fewer answers than mirror_percent sends (binomial p = "
                        f"{p_value:.3g} < alpha {self.spec.alpha:g}): the candidate loses "
                        "requests")
        return Case(CLASSNAME, "errors", Outcome.of(passed), message,
                    GateProperties(metric="error_rate", value=Figure.of(rate),
                                   max=Figure.of(self.spec.max_error_rate),
                                   failures=self.failed, requests=self.requests,
                                   p_value=Figure.of(p_value, ".4g"),
                                   decision="pass" if passed else "fail",
                                   extra={"mirrored": str(self.requests),
                                          "unmirrored": str(self.unanswered),
                                          "mirror_percent": str(self.mirror_percent)}))

    def summary_json(self, candidate: Candidate, env: str) -> str:
        """The window's figures as one JSON document beside the JUnit."""
        return json.dumps({
            "candidate": candidate.id, "environment": env, "verdict": self.verdict.value,
            "joined": self.requests, "candidate_failed": self.failed,
            "unanswered": self.unanswered if self.mirror_percent == 100 else 0,
            "mirror_percent": self.mirror_percent,
            "mirrored": self.requests,
            "unmirrored": 0 if self.mirror_percent == 100 else self.unanswered,
            "flips": [{"production": a, "candidate": b, "count": n}
                      for (a, b), n in sorted(self.flips.items())],
            "agreement": _decision_json(self.agreement.decision()) if self.labels else None,
            "score_difference": (_decision_json(self.difference.decision())
                                 if self.candidate_scores else None),
            "noise_floor": self.floor.summary() if self.floor is not None else None,
            "settings": self.spec.model_dump(),
        }, indent=2) + "\n"


class _Floor:
    """The candidate against production's copy on the same requests: the copy's own
    figures (the A/A floor) and the candidate's excess over them, tested sequentially."""

    def __init__(self, spec: ShadowSpec) -> None:
        self.agreement = sequential.PairedDifferenceTest(margin=spec.tolerance,
                                                         alpha=spec.alpha)
        self.difference = sequential.PairedDifferenceTest(margin=spec.margin,
                                                          alpha=spec.alpha)
        self.requests = 0  # answered by all three
        self.copy_failed = 0
        # Production's answers only the copy never logged (set by the window): left out of
        # the comparison, not counted against the candidate.
        self.copy_unanswered = 0
        self.labels = 0
        self.candidate_disagreed = 0
        self.copy_disagreed = 0
        self.flips: Counter[tuple[str, str]] = Counter()  # production -> candidate
        self.copy_flips: Counter[tuple[str, str]] = Counter()  # production -> copy
        self.candidate_distance: list[float] = []
        self.copy_distance: list[float] = []
        self.copy_shift: list[float] = []
        self.candidate_latency = Latencies()
        self.copy_latency = Latencies()

    def add(self, triples: list[Triple]) -> None:
        agreements: list[float] = []
        distances: list[float] = []
        for triple in triples:
            production, candidate, copy = triple.production, triple.shadow, triple.copy
            if copy.status != 200:
                self.copy_failed += 1
            if candidate.status != 200 or copy.status != 200:
                continue
            self.requests += 1
            self.candidate_latency.add(candidate)
            self.copy_latency.add(copy)
            if None not in (production.label, candidate.label, copy.label):
                self.labels += 1
                ours, theirs = production.label != candidate.label, production.label != copy.label
                self.candidate_disagreed += ours
                self.copy_disagreed += theirs
                if ours:
                    self.flips[(str(production.label), str(candidate.label))] += 1
                if theirs:
                    self.copy_flips[(str(production.label), str(copy.label))] += 1
                agreements.append(float(ours) - float(theirs))
            base, new, again = score_of(production), score_of(candidate), score_of(copy)
            if base is not None and new is not None and again is not None:
                self.candidate_distance.append(abs(new - base))
                self.copy_distance.append(abs(again - base))
                self.copy_shift.append(again - base)
                distances.append(abs(new - base) - abs(again - base))
        if agreements:
            self.agreement.update_many(agreements)
        if distances:
            self.difference.update_many(distances)

    def summary(self) -> dict[str, object]:
        n = len(self.copy_distance)
        return {
            "requests": self.requests, "copy_failed": self.copy_failed,
            "copy_unanswered": self.copy_unanswered,
            "labels": self.labels, "candidate_disagreed": self.candidate_disagreed,
            "copy_disagreed": self.copy_disagreed,
            "copy_mean_score_distance": math.fsum(self.copy_distance) / n if n else None,
            "excess_agreement": (_decision_json(self.agreement.decision())
                                 if self.labels else None),
            "excess_score_distance": (_decision_json(self.difference.decision())
                                      if n else None)}


def _decision_json(decision: sequential.SequentialDecision) -> dict[str, object]:
    return {"outcome": decision.outcome.value, "n": decision.n, "estimate": decision.estimate,
            "low": decision.low, "high": decision.high, "e_value": decision.statistic,
            "needed_more": decision.needed_more}


def _with(properties: GateProperties, **changes: object) -> GateProperties:
    return replace(properties, **changes)  # type: ignore[arg-type]


def _nothing_joined(detail: str = "") -> Case:
    return Case(CLASSNAME, "errors", Outcome.FAILED,
                f"no request was joined{detail}: nothing reached both production and the "
                "candidate in the window", GateProperties(decision="inconclusive", rows=0))


def _not_applicable(name: str, why: str) -> Case:
    return Case(CLASSNAME, name, Outcome.SKIPPED, f"not judged: {why}",
                GateProperties(decision="skipped"))
