"""Load SLO gates: a figure Locust measured on one endpoint must hold its bound."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from harness.config import LoadSLO
from harness.errors import ConfigError, HarnessError
from harness.gates.context import RunContext
from harness.gates.inputs import Problem, url_problems
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.gates.result import GateResult, GateSpec
from harness.load.importing import import_problem
from harness.load.results import OVERALL, LoadResults
from harness.load.runner import resolve_target

if TYPE_CHECKING:
    from harness.gates.state import GateState

_UNITS = {"p50_ms": " ms", "p95_ms": " ms", "p99_ms": " ms", "error_ratio": "", "rps": " req/s"}


READS_DATA = True
CALLS_MODEL = False


def problems(context: RunContext) -> list[Problem]:
    """The locustfile compiles and imports, and the service the load goes to answers (a
    profile's environment is probed by preflight itself)."""
    config = context.config
    target_url = context.target_url
    key = context.target_key or ("load.url" if config.load.url else "model.url")
    found = []
    locustfile = config.load.locustfile
    if locustfile is not None:
        path = config.resolve(locustfile)
        try:
            compile(path.read_bytes(), str(path), "exec")
        except OSError as exc:
            found.append(Problem("load.locustfile", f"{path} cannot be read ({exc.strerror})"))
        except (SyntaxError, ValueError) as exc:
            line = f" line {exc.lineno}" if isinstance(exc, SyntaxError) else ""
            found.append(Problem("load.locustfile", f"{path}{line} is not valid Python ({exc})"))
        else:
            if not path.read_bytes().strip():
                found.append(Problem("load.locustfile", f"{path} is empty; write the scenario"))
            elif (raised := import_problem(path, config.root, config.child_env())) is not None:
                found.append(Problem("load.locustfile", f"{raised}; fix the scenario"))
    try:
        target = resolve_target(config, target_url)
    except HarnessError as exc:
        found.append(Problem(key, str(exc).removeprefix(f"{config.source}: ")))
    else:
        if context.environment is None:  # an environment's address is probed by preflight
            found.extend(url_problems(key, target.url, "start the service the load test "
                                      "targets"))
    return found


def _fmt(metric: str, value: float) -> str:
    return f"{value:.4f}" if metric == "error_ratio" else f"{value:.1f}{_UNITS[metric]}"


def _missed(slo: LoadSLO, results: LoadResults, message: str,
            props: GateProperties) -> GateResult:
    """A missed SLO: failed on the service's account, unless the generator was saturated,
    when the figure measured the generator instead and the verdict is inconclusive."""
    cpu = results.generator
    if cpu is None or not cpu.saturated:
        return GateResult(Outcome.FAILED, message, props)
    text = (f"inconclusive: {message}, but {cpu.describe()}: the SLO could not be measured; "
            "give the load generator its own cores or workers (docs/load.md)")
    props = replace(props, decision="inconclusive", on_inconclusive=slo.on_inconclusive)
    if slo.on_inconclusive == "warn":
        return GateResult(Outcome.PASSED, text, replace(props, warning=text))
    return GateResult(Outcome.FAILED, text, props)


def check_slo(slo: LoadSLO, results: LoadResults) -> GateResult:
    """Judge one SLO against a load run's results: pass, fail, or inconclusive when the
    SLO was missed while the load generator's own CPU was saturated."""
    where = "overall" if slo.endpoint == OVERALL else f"at {slo.endpoint}"
    props = GateProperties(
        endpoint=slo.endpoint, metric=slo.metric, url=results.url,
        max=Figure(str(slo.max)) if slo.max is not None else None,
        min=Figure(str(slo.min)) if slo.min is not None else None,
        # Relative to the run's report folder, which is moved into place after the run.
        report=(f"{results.html.parent.name}/{results.html.name}"
                if results.html is not None else None),
        generator_cpu=(Figure.of(results.generator.peak, ".3g")
                       if results.generator is not None else None),
        generator_cpu_saturated=(Figure.of(results.generator.saturated_share, ".3g")
                                 if results.generator is not None else None),
    )
    if results.unreachable is not None:
        props = replace(props, value=Figure("1.0" if slo.metric == "error_ratio" else ""),
                        requests=0)
        prefix = f"error_ratio = 1.0000 {where}: " if slo.metric == "error_ratio" else ""
        return GateResult(Outcome.FAILED,
                          f"{prefix}no successful requests: {results.unreachable}", props)
    stats = results.endpoints.get(slo.endpoint)
    if stats is None or stats.requests == 0:
        return GateResult(Outcome.FAILED, f"no requests were made {where}: check "
                                          f"load.scenario sends to {slo.endpoint}", props)
    props = replace(props, requests=stats.requests, failures=stats.failures)
    if slo.metric != "error_ratio" and stats.failures == stats.requests:
        error = results.top_error(slo.endpoint) or "every request failed"
        return GateResult(Outcome.FAILED, f"no successful requests {where} "
                                          f"({stats.requests} sent): {error}",
                          replace(props, value=Figure("")))
    value = stats.metric(slo.metric)
    props = replace(props, value=Figure.of(value, ".6g"))
    measured = f"{slo.metric} = {_fmt(slo.metric, value)} {where} ({stats.requests} requests)"
    if slo.max is not None and value > slo.max:
        message = f"{measured}, above its ceiling {_fmt(slo.metric, slo.max)}"
        if slo.metric == "error_ratio" and (error := results.top_error(slo.endpoint)):
            message += f"; most common error: {error}"
        return _missed(slo, results, message, props)
    if slo.min is not None and value < slo.min:
        return _missed(slo, results, f"{measured}, below its floor {_fmt(slo.metric, slo.min)}",
                       props)
    bound = f"<= {_fmt(slo.metric, slo.max)}" if slo.max is not None else \
        f">= {_fmt(slo.metric, slo.min)}"  # type: ignore[arg-type]
    return GateResult(Outcome.PASSED, f"{measured}, within {bound}", props)


def gates(state: GateState) -> Iterator[GateSpec]:
    """One criterion per SLO; the session's one Locust run happens in the first's setup."""
    config = state.config
    if not config.load.slos:
        raise ConfigError(f"{config.source}: the profile runs the load check but 'load.slos' "
                          "lists no SLO to judge")
    for slo in config.load.slos:
        # /predict/batch becomes classname load.predict_batch: one level in Jenkins' tree.
        endpoint = OVERALL if slo.endpoint == OVERALL else \
            slo.endpoint.strip("/").replace("/", "_") or "root"
        yield GateSpec("load", endpoint, slo.metric, state.load,
                       lambda slo=slo: check_slo(slo, state.load()))
