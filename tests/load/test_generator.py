"""A starved load generator: a missed SLO is inconclusive, not failed on the service's
account. The CPU samples are built here, so the rule is tested without timing."""

from __future__ import annotations

import json
from pathlib import Path

from harness.config import LoadSLO
from harness.gates.checks.load import check_slo
from harness.gates.outcome import Outcome
from harness.load.generator import CPUSample, GeneratorCPU, read_generator_cpu
from harness.load.results import OVERALL, EndpointStats, LoadResults

RPS_FLOOR = LoadSLO(endpoint="overall", metric="rps", min=250)


def _cpu(*percents: float) -> GeneratorCPU:
    return GeneratorCPU(tuple(CPUSample({"master": 3.0, "worker a": p}) for p in percents))


def _results(rps: float, cpu: GeneratorCPU | None) -> LoadResults:
    stats = EndpointStats(name=OVERALL, requests=1900, failures=0, p50_ms=20.0, p95_ms=80.0,
                          p99_ms=120.0, rps=rps)
    return LoadResults(url="http://127.0.0.1:1", endpoints={OVERALL: stats}, duration_s=10.0,
                       generator=cpu)


def test_a_saturated_generator_makes_a_missed_slo_inconclusive() -> None:
    result = check_slo(RPS_FLOOR, _results(190.0, _cpu(97, 99, 98, 96, 40)))
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("inconclusive: rps = 190.0 req/s overall")
    assert "the load generator's CPU was at 99 %" in result.message
    assert "the SLO could not be measured; give the load generator its own cores" \
        in result.message
    assert result.properties.decision == "inconclusive"
    assert result.properties.generator_cpu.text == "99"
    assert float(result.properties.generator_cpu_saturated.text) == 0.8


def test_warn_passes_an_inconclusive_slo_with_a_warning() -> None:
    slo = RPS_FLOOR.model_copy(update={"on_inconclusive": "warn"})
    result = check_slo(slo, _results(190.0, _cpu(97, 99, 98)))
    assert result.outcome is Outcome.PASSED
    assert result.properties.warning == result.message
    assert result.message.startswith("inconclusive:")


def test_a_generator_with_cpu_to_spare_fails_the_slo_on_the_service() -> None:
    result = check_slo(RPS_FLOOR, _results(190.0, _cpu(30, 95, 40, 35, 20)))  # one spike
    assert result.outcome is Outcome.FAILED
    assert result.message == "rps = 190.0 req/s overall (1900 requests), below its floor " \
                             "250.0 req/s"
    assert result.properties.decision is None
    assert result.properties.generator_cpu.text == "95"


def test_a_met_slo_passes_even_on_a_saturated_generator() -> None:
    result = check_slo(RPS_FLOOR, _results(300.0, _cpu(99, 99)))
    assert result.outcome is Outcome.PASSED and result.properties.decision is None


def test_the_saturation_rule() -> None:
    assert not _cpu().saturated and _cpu().peak == 0.0
    assert _cpu(90, 10, 10, 10).saturated  # exactly the share and the threshold
    assert not _cpu(89.9, 89.9).saturated
    assert not _cpu(95, 10, 10, 10, 10).saturated  # 20 %: a spike


def test_the_monitor_file_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "locust_cpu.json"
    assert read_generator_cpu(path) is None
    path.write_text(json.dumps({"threshold": 90, "samples": [
        {"t": 1.0, "users": 2, "cpu": {"master": 12.5, "worker 1": 93.0}},
        {"t": 2.0, "users": 2, "cpu": {"master": 10.0, "worker 1": 91.0}}]}))
    cpu = read_generator_cpu(path)
    assert cpu is not None and cpu.peak == 93.0 and cpu.saturated
    assert cpu.busiest_process() == "worker 1"
    path.write_text("{not json")
    assert read_generator_cpu(path) is None
