"""The preflight: a profile whose inputs are unusable is refused once, with exit 2 and one
message naming each problem by its key, before anything runs or is recorded. Each case runs
``harness check`` and asserts that not one file of the project changed: in its own process
once per path a refusal takes (the engine's preflight, the pytest process's entry point, an
environment's preflight, an environment's identity), through the CLI's ``main`` in this
process for the other cases of each path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.config import load_config
from harness.errors import DatasetError, PreflightError
from harness.gates.context import RunContext
from harness.gates.evaluation import labels
from harness.run.preflight import check_inputs
from tests.support.cli import harness, refused, refused_in_process
from tests.support.project import GOLDEN, edit_config, rewrite_golden, snapshot
from tests.support.service_process import free_port


def _golden(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / GOLDEN / "credit.csv")


def test_an_entry_point_that_does_not_import_is_refused(project: Path) -> None:
    edit_config(project, model={"entrypoint": "credit_model.nosuch:load_model"})
    message = refused(project)
    assert "key 'model.entrypoint': model.entrypoint 'credit_model.nosuch:load_model' cannot " \
           "be imported" in message
    assert "No module named 'credit_model.nosuch'" in message


def test_an_entry_point_whose_module_raises_is_refused(project: Path) -> None:
    """Refused by the pytest process, whose path the test above proves; its refusal is
    preflight's, made here in this process."""
    (project / "broken_model.py").write_text("raise RuntimeError('needs a GPU')\n")
    edit_config(project, model={"entrypoint": "broken_model:load", "artifact": None})
    before = snapshot(project)
    with pytest.raises(PreflightError) as refused_by:
        check_inputs(RunContext.resolve(load_config(project / "harness.yaml"), "pr"))
    message = str(refused_by.value)
    assert snapshot(project) == before
    assert "key 'model.entrypoint': 'broken_model:load' raised RuntimeError on import: needs " \
           "a GPU; fix the module" in message


def test_an_empty_artifact_folder_is_refused(project: Path) -> None:
    (project / "artifacts/empty").mkdir(parents=True)
    (project / "artifacts/empty/model.joblib").write_bytes(b"")
    edit_config(project, model={"artifact": "artifacts/empty"})
    message = refused_in_process(project)
    assert f"key 'model.artifact': {project / 'artifacts/empty'} holds no file with content; " \
           "train or download the model first" in message


def test_a_missing_artifact_is_refused(project: Path) -> None:
    edit_config(project, model={"artifact": "artifacts/none"})
    message = refused_in_process(project)
    assert f"key 'model.artifact': {project / 'artifacts/none'} does not exist; train or " \
           "download the model first" in message


def test_a_header_only_golden_file_is_refused(project: Path) -> None:
    path = rewrite_golden(project, _golden(project).head(0))
    message = refused_in_process(project)
    assert f"key 'golden[0].path': {path} has a header but no rows" in message


def test_a_golden_file_missing_a_schema_column_is_refused(project: Path) -> None:
    path = rewrite_golden(project, _golden(project).drop(columns=["Age", "Status"]))
    message = refused_in_process(project)
    assert f"key 'golden[0].path': {path} lacks the column(s) Status, Age that " \
           "schema.columns and model.label_column name" in message


@pytest.mark.parametrize("allowed", [True, False], ids=["label-allowed", "no-allowed"])
def test_a_third_label_class_is_refused_with_file_line_and_value(project: Path,
                                                                 allowed: bool) -> None:
    frame = _golden(project)
    frame.loc[41, "Status"] = "maybe"  # data row 41 is line 43 of the file
    path = rewrite_golden(project, frame)
    if not allowed:
        data = yaml.safe_load((project / "harness.yaml").read_text())
        del data["schema"]["columns"]["Status"]["allowed"]
        (project / "harness.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    message = refused_in_process(project)
    assert f"key 'golden[0].path': {path}: label column 'Status' holds" in message
    if allowed:
        assert "'maybe' at line 43: neither model.positive_label 'bad' nor a known negative " \
               "('good'); fix the data, or add the value to schema.columns.Status.allowed" \
               in message
    else:
        assert "'maybe' (first at line 43) besides model.positive_label 'bad'; a binary label " \
               "has one negative value" in message


def test_a_third_label_class_is_never_scored_as_negative(project: Path) -> None:
    """The evaluation itself refuses it too, so no path (bless, the plugin) scores it."""
    config = load_config(project / "harness.yaml")
    frame = _golden(project)
    frame.loc[41, "Status"] = "maybe"
    with pytest.raises(DatasetError, match=r"dataset 'credit-v1': label column 'Status' holds "
                                           r"'maybe' at line 43"):
        labels(frame, config, "credit-v1")


def test_a_locustfile_that_is_not_python_and_an_unreachable_target_are_listed_together(
        project: Path) -> None:
    (project / "suites").mkdir()
    (project / "suites/locustfile.py").write_text("from locust import HttpUser\nclass U(:\n")
    port = free_port()
    edit_config(project, load={"locustfile": "suites/locustfile.py",
                               "url": f"http://127.0.0.1:{port}"},
                profiles={"pr": {"checks": ["schema", "load"]}})
    message = refused_in_process(project)
    assert "Fix these 2 problems first" in message
    assert f"key 'load.locustfile': {project / 'suites/locustfile.py'} line 2 is not valid " \
           "Python" in message
    assert f"key 'load.url': connection refused at http://127.0.0.1:{port}; start the service " \
           "the load test targets" in message


def test_a_benchmark_check_without_its_baseline_is_refused(project: Path) -> None:
    (project / "suites/benchmarks").mkdir(parents=True)
    (project / "suites/benchmarks/test_speed.py").write_text("def test_x(): pass\n")
    edit_config(project, profiles={"pr": {"checks": ["benchmark"]}})
    message = refused_in_process(project)
    assert f"key 'gates.benchmark.baseline': benchmark baseline " \
           f"{project / 'suites/benchmarks/baseline.json'} does not exist" in message


def test_an_environment_where_nothing_answers_is_refused(project: Path) -> None:
    staging, production = free_port(), free_port()
    edit_config(project, environments={"staging": {"port": staging},
                                       "production": {"port": production}},
                profiles={"release": {"checks": ["schema", "quality"],
                                      "environment": "staging"}})
    message = refused(project, "check", "--profile", "release")
    assert f"key 'environments.staging.port': connection refused at http://127.0.0.1:{staging}; " \
           "deploy a candidate first (harness deploy --env staging)" in message


def test_an_http_model_that_does_not_answer_is_refused(project: Path) -> None:
    port = free_port()
    edit_config(project, model={"adapter": "http", "url": f"http://127.0.0.1:{port}"})
    message = refused_in_process(project)
    assert f"key 'model.url': connection refused at http://127.0.0.1:{port}; start the service " \
           "or correct the URL" in message


def test_a_missing_passport_is_refused(project: Path) -> None:
    for path in (project / "golden/passports").rglob("*"):
        if path.is_file():
            path.unlink()
    message = refused_in_process(project)
    assert "key 'golden[0]': no passport for 'credit-v1' as it is now" in message
    assert "harness golden bless" in message


def test_a_profile_with_nothing_to_run_is_refused(project: Path) -> None:
    edit_config(project, profiles={"pr": {"checks": []}})
    message = refused_in_process(project)
    assert "key 'profiles.pr': selects no checks and no tests; add some" in message


def test_every_problem_is_listed_once_by_its_key(project: Path) -> None:
    frame = _golden(project).drop(columns=["Age"])
    rewrite_golden(project, frame)
    (project / "fixtures/credit/train.csv").write_text("")
    edit_config(project, model={"entrypoint": "nowhere:load", "artifact": "artifacts/none"})
    message = refused(project)
    assert "Fix these 6 problems first" in message
    keys = [line.split("'")[1] for line in message.splitlines()[1:]]
    # The slice on Age has no column now; new golden data has no passport yet: both are
    # said too, not found later.
    assert keys == ["golden[0].path", "training.path", "model.entrypoint", "model.artifact",
                    "slices[2].column", "golden[0]"]


def test_a_remote_environment_is_refused_for_load_by_its_own_key(project: Path) -> None:
    from harness.run.preflight import problems

    edit_config(project, environments={"staging": {"port": free_port(),
                                                   "url": "http://192.0.2.1:8080"},
                                       "production": {"port": free_port()}},
                profiles={"release": {"checks": ["load"], "environment": "staging"}})
    found = problems(RunContext.resolve(load_config(project / "harness.yaml"), "release"))
    assert any(p.key == "environments.staging.url" and p.message.startswith(
        "load target http://192.0.2.1:8080 is not a loopback address") for p in found), found
    assert all(p.key == "environments.staging.url" for p in found), found


def test_a_slice_column_missing_from_the_golden_set_is_refused(project: Path) -> None:
    edit_config(project, slices=[{"name": "region", "column": "Region"}])
    message = refused_in_process(project)
    assert ("key 'slices[0].column': slice 'region': column 'Region' is not in golden set "
            "'credit-v1'") in message


def test_a_golden_set_with_too_few_positives_is_refused(project: Path) -> None:
    frame = _golden(project)
    rewrite_golden(project, pd.concat([frame[frame["Status"] == "good"].head(100),
                                       frame[frame["Status"] == "bad"].head(1)]))
    message = refused_in_process(project)
    assert ("key 'golden[0].path': golden set 'credit-v1' has too little evidence for its "
            "quality gates: 1 positive(s), fewer than gates.min_positives (10)") in message


def test_two_golden_rows_are_refused_not_passed(project: Path) -> None:
    frame = _golden(project)
    rewrite_golden(project, pd.concat([frame[frame["Status"] == "good"].head(1),
                                       frame[frame["Status"] == "bad"].head(1)]))
    message = refused_in_process(project)
    assert "1 positive(s), fewer than gates.min_positives (10) and 1 negative(s)" in message


def _served_by(url: str) -> str:
    import httpx

    return httpx.get(f"{url}/version", timeout=5).json()["artifact_sha256"]


def test_another_projects_service_on_the_environments_port_is_refused(
        project: Path, service_url: str) -> None:
    """Project A's service answers on the port of this project's staging, where this
    project deployed nothing: refused up front naming the digest that answers."""
    port = int(service_url.rsplit(":", 1)[1])
    edit_config(project, environments={"staging": {"port": port},
                                       "production": {"port": free_port()}},
                profiles={"release": {"checks": ["schema", "quality"],
                                      "environment": "staging"}})
    message = refused_in_process(project, "check", "--profile", "release")
    assert (f"profile 'release' checks staging, but {service_url} answers with artifact "
            f"sha256 {_served_by(service_url)} and this project deployed nothing there"
            in message)
    assert "then deploy this project's candidate (harness deploy --env staging)" in message


def test_a_service_other_than_the_deployed_candidate_is_refused(
        project: Path, service_url: str) -> None:
    """This project deployed candidate X to staging; its process is gone and project A's
    service took the port. Both digests are named; history, reports and state unchanged."""
    from harness.candidate.identity import build_candidate
    from harness.deploy.state import EnvState, Revision, env_dir, save_state

    port = int(service_url.rsplit(":", 1)[1])
    edit_config(project, environments={"staging": {"port": port},
                                       "production": {"port": free_port()}},
                deploy={"state_dir": "state"},
                profiles={"release": {"checks": ["schema", "quality"],
                                      "environment": "staging"}})
    ours = project / "state/ours"
    ours.mkdir(parents=True)
    (ours / "model.joblib").write_bytes(b"this project's model")
    candidate = build_candidate(ours)
    save_state(env_dir(project / "state", "staging"), EnvState(
        env="staging", port=port, current=1, revisions=[Revision(
            revision=1, candidate=candidate, artifact_dir=ours, deployed_at="2026-01-01")]))
    before = snapshot(project)
    result = harness(project, "check", "--profile", "release")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("harness: error:") == 1 and "Traceback" not in result.stderr
    assert (f"{service_url} answers with artifact sha256 {_served_by(service_url)}, not the "
            f"artifact sha256 {candidate.artifact_sha256} of candidate {candidate.id} that "
            "this project deployed there (revision 1); nothing was run or recorded"
            in result.stderr)
    assert snapshot(project) == before
    assert not (project / "reports").exists() and not (project / ".harness").exists()


def test_a_locustfile_that_raises_on_import_is_refused_once(project: Path,
                                                             service_url: str) -> None:
    """It compiles, but raises when Locust imports it: refused up front, one message naming
    the file, the error and its line, instead of one ERROR testcase per SLO after a run."""
    (project / "suites").mkdir()
    (project / "suites/locustfile.py").write_text(
        "from locust import HttpUser\n\nraise RuntimeError('the scenario has no token')\n")
    edit_config(project, load={"locustfile": "suites/locustfile.py", "url": service_url},
                profiles={"pr": {"checks": ["schema", "load"]}})
    message = refused_in_process(project)
    assert "Fix this first" in message
    assert (f"key 'load.locustfile': {project / 'suites/locustfile.py'} raised RuntimeError: "
            "the scenario has no token at line 3 when imported as Locust imports it; fix the "
            "scenario") in message
