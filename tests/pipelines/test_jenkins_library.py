"""The Jenkins shared library (vars/) and this repository's Jenkinsfile, read as Jenkins
reads their structure: thin (every stage one `harness` command, or the library's install
script), publishing what the harness writes, and shaped so a failed gate stops the
promotion and the approval holds no executor. The Groovy Jenkins runs pipelines with (2.4)
compiles them; tests/test_pipeline_replay.py runs them. Each check is shown to catch a
broken copy."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.jenkins_replay import REPLAY, Agent, Replay, groovy_env, require_groovy
from tests.support.pipelines import (
    LIBRARY_PIPELINES,
    PIPELINE_SOURCES,
    ROOT,
    Block,
    parse_groovy_blocks,
    shell_steps,
)

PULL_REQUEST = ROOT / "vars/harnessPullRequest.groovy"
PROMOTE = ROOT / "vars/harnessPromote.groovy"
INSTALL = "libraryResource('harness/install.sh')"
HARNESS = re.compile(r'^"\$HARNESS" \w+( |$)')
# Steps that would let a failed gate pass unnoticed, or logic that belongs in Python.
FORBIDDEN = re.compile(r"\b(catchError|warnError|returnStatus|propagate|unstable|try|"
                       r"currentBuild|script|bat|powershell|parallel|matrix|failFast)\b"
                       r"|\|\| *true|set \+e")
GATES = ("Deploy to staging", "Gate: release checks on staging", "Approval and promotion")
# A step that builds a model: it belongs to the pull-request, main and nightly builds.
TRAINS = re.compile(r"\"\$HARNESS\" build\b|\bmake\b[^']*\bmodel\b|\btrain\b")


def pipeline(text: str) -> Block:
    [block] = parse_groovy_blocks(text).find(r"pipeline")
    return block


def stage(root: Block, name: str) -> Block | None:
    found = root.find(rf"stage\('{re.escape(name)}'\)")
    return found[0] if len(found) == 1 else None


def directive(block: Block, head: str) -> Block | None:
    found = [b for b in block.children if b.head == head]
    return found[0] if len(found) == 1 else None


def steps_of(text: str) -> list[str]:
    """Every step that runs a command: `sh '...'`, and `sh libraryResource(...)`."""
    return [*shell_steps(text), *(INSTALL for _ in re.finditer(
        rf"\bsh {re.escape(INSTALL)}", text))]


def pipeline_problems(text: str) -> list[str]:
    """What makes a library pipeline other than thin and publishing its reports."""
    problems = []
    steps = steps_of(text)
    if not steps:
        problems.append("no sh step")
    problems += [f"not a harness step: {s}" for s in steps
                 if s != INSTALL and not HARNESS.match(s)]
    if INSTALL not in steps:
        problems.append("the pinned harness is not installed by the library's install script")
    source = "\n".join(line.split("//")[0] for line in text.splitlines())
    problems += [f"'{m.group()}' has no place in a thin pipeline"
                 for m in FORBIDDEN.finditer(source)]
    always = " ".join(" ".join(b.body.split()) for b in pipeline(text).find("always"))
    if "junit testResults: 'reports/**/junit/*.xml', keepProperties: true" not in always:
        problems.append("JUnit reports/**/junit/*.xml not published with their properties")
    if "archiveArtifacts artifacts: 'reports/**'" not in always:
        problems.append("reports not archived")
    if '"$HARNESS" check --profile "$HARNESS_PROFILE" --reports reports' in steps and \
            'reportDir: "reports/${settings.profile}/html", reportFiles: \'index.html\'' \
            not in always:
        problems.append("no HTML report published for the profile")
    return problems


def promotion_problems(text: str) -> list[str]:
    """What would let a promotion run past a failed gate, approve without a release
    manager, wait forever or hold an executor while it waits."""
    problems = []
    root = pipeline(text)
    stages = [stage(root, name) for name in GATES]
    if None in stages:
        return [f"stages must be exactly: {', '.join(GATES)}"]
    order = [b.head for b in root.find(r"stage\(.*\)")]
    if [order.index(s.head) for s in stages] != sorted(order.index(s.head) for s in stages):
        problems.append("gates must come before deploy, approval and promotion")
    deploy, release, approval = stages
    for block, needle in ((deploy, 'deploy --env "$HARNESS_STAGING" --candidate "$CANDIDATE"'),
                          (release, 'check --profile "$HARNESS_PROFILE"')):
        if needle not in block.body:
            problems.append(f"{block.head} does not run {needle}")
    problems += [f"the promotion trains: {step}" for step in steps_of(text)
                 if TRAINS.search(step)]
    success = root.find("success")
    if not success or "stash name: 'evidence'" not in success[0].body:
        problems.append("evidence is not stashed on success only")
    if "unstash 'evidence'" not in approval.body:
        problems.append("promotion does not unstash the evidence")
    if not re.search(r"^\s*agent none\s*$", root.own_text(), re.MULTILINE):
        problems.append("the pipeline holds an agent: use agent none and per-stage agents")
    top = directive(root, "stages")
    if top is None or approval not in top.children:
        problems.append("the approval stage is nested in another stage (which may hold an agent)")
    input_block = directive(approval, "input")
    if input_block is None:
        problems.append("approval is not a stage-level input directive (evaluated before agent)")
    else:
        fields = dict(re.findall(r"^\s*(\w+) (.+?)\s*$", input_block.body, re.MULTILINE))
        if fields.get("submitter") != '"${settings.approvers}"':
            problems.append("approval is not restricted to the configured approvers")
        if fields.get("submitterParameter") != "'APPROVER'":
            problems.append("the approver is not recorded in APPROVER")
    options = directive(approval, "options")
    if options is None or not re.search(r"timeout\(time: \d+, unit: 'HOURS'\)", options.body):
        problems.append("no timeout in hours bounds the approval")
    if 'promote --candidate "$CANDIDATE" --approver "$APPROVER"' not in approval.body:
        problems.append("harness promote is not given the candidate and the approver")
    canary = ('canary --env "$HARNESS_PRODUCTION" --candidate "$CANDIDATE" '
              '--approver "$APPROVER"')
    if canary not in approval.body:
        problems.append("harness canary is not given production, the candidate and the approver")
    canary_when = "settings.promotion == 'canary' && settings.canaryApproval == "
    for name, value in (("Promote all at once", "settings.promotion == 'all-at-once'"),
                        ("Promote by canary steps", canary_when + "'before-first'"),
                        ("Last canary step", canary_when + "'before-last'")):
        found = stage(approval, name)
        if found is None or f"when {{ expression {{ {value} }} }}" not in found.body:
            problems.append(f"'{name}' does not run only when {value}")
    held = stage(root, "Canary steps before the approval")
    if held is None or top is None or held not in top.children \
            or f"when {{ expression {{ {canary_when}'before-last' }} }}" not in held.body:
        problems.append("the canary's steps before the approval do not run (only) with "
                        "canaryApproval 'before-last', before the approval")
    elif order.index(held.head) > order.index(approval.head) or \
            '--hold-before-last' not in held.body or "unstash 'evidence'" not in held.body:
        problems.append("the canary's steps before the approval do not hold before the last "
                        "step, on the evidence, ahead of the approval")
    resume = ('canary --env "$HARNESS_PRODUCTION" --resume --approver "$APPROVER" '
              '--candidate "$CANDIDATE"')
    if resume not in approval.body:
        problems.append("the held canary is not resumed with the approver and the candidate")
    return problems


@pytest.mark.parametrize("path", LIBRARY_PIPELINES, ids=[p.name for p in LIBRARY_PIPELINES])
def test_pipeline_is_thin_and_publishes_its_reports(path: Path) -> None:
    assert pipeline_problems(path.read_text()) == []


def test_the_library_s_pipelines_are_the_three_a_team_needs() -> None:
    assert [p.stem for p in LIBRARY_PIPELINES] == ["harnessNightly", "harnessPromote",
                                                   "harnessPullRequest"]


FAKE_HARNESS = """#!/bin/sh
# Records what the pipeline asked of the harness; writes a report as `check` would.
echo "$*" >> "$HARNESS_CALLS"
mkdir -p reports/release
echo "$*" > reports/release/ran.txt
"""


def _replay_promote(tmp_path: Path, settings: str,
                    approver: str | None = "ana") -> tuple[Replay, list[str]]:
    """The library's promote step replayed with ``settings``, its harness a recorder: the
    pipeline's own choices (stages, commands, the settings check), not the harness's."""
    repository = tmp_path / "team"
    repository.mkdir()
    (repository / "harness.yaml").write_text("{}\n")
    for command in (["init", "-q", "-b", "main"], ["add", "."],
                    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one"]):
        subprocess.run(["git", *command], cwd=repository, check=True)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/harness").write_text(FAKE_HARNESS)
    (venv / "bin/harness").chmod(0o755)
    version = re.search(r"HARNESS_VERSION = '([^']+)'", (ROOT / "vars/harnessSettings.groovy")
                        .read_text()).group(1)  # type: ignore[union-attr]
    (venv / ".harness-install").write_text(f"package=harness=={version}\n")
    script = tmp_path / "Jenkinsfile"
    script.write_text(f"@Library('harness@v0.2') _\nharnessPromote(venv: '{venv}'{settings})\n")
    calls = tmp_path / "calls.txt"
    agent = Agent(tmp_path / "agent", site_env={"HARNESS_CALLS": str(calls)})
    replay = agent.replay(script, "team/promote", scm={"url": str(repository), "branch": "main"},
                          params={"CANDIDATE": "registry.example/team/model@sha256:" + "a" * 64},
                          approver=approver, timeout_s=300)
    return replay, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize("promotion", ["all-at-once", "canary"])
def test_the_promote_step_runs_the_promotion_its_settings_name(tmp_path: Path,
                                                                promotion: str) -> None:
    replay, calls = _replay_promote(tmp_path, f", promotion: '{promotion}'")
    assert replay.result == "SUCCESS", replay.log()[-3000:]
    reference = "registry.example/team/model@sha256:" + "a" * 64
    promote = f"promote --candidate {reference} --approver ana --reports reports"
    canary = f"canary --env production --candidate {reference} --approver ana --reports reports"
    assert calls[-2] == (canary if promotion == "canary" else promote), calls
    assert calls[-1] == "status --env production"
    assert not [c for c in calls if c.startswith("promote" if promotion == "canary" else "canary")]
    skipped = "Promote all at once" if promotion == "canary" else "Promote by canary steps"
    assert replay.statuses()[skipped] == "skipped: when"


def test_the_promote_step_asks_the_canarys_approval_before_its_last_step(
        tmp_path: Path) -> None:
    replay, calls = _replay_promote(tmp_path, ", promotion: 'canary', "
                                              "canaryApproval: 'before-last'")
    assert replay.result == "SUCCESS", replay.log()[-3000:]
    reference = "registry.example/team/model@sha256:" + "a" * 64
    calls = [call for call in calls if call != "--version"]  # the install script's
    held = (f"canary --env production --candidate {reference} --hold-before-last "
            "--by jenkins-team-promote-1 --reports reports")
    resume = f"canary --env production --resume --approver ana --candidate {reference}"
    assert calls[-3:] == [held, f"{resume} --reports reports", "status --env production"], calls
    statuses = replay.statuses()
    assert [name for name in statuses if statuses[name] == "skipped: when"] == [
        "Promote all at once", "Promote by canary steps"]
    # The approval comes between the held steps and the last one.
    names = [s["name"] for s in replay.stages]
    assert names.index("Canary steps, held before the last") \
        < names.index("Approval and promotion") < names.index("Last canary step")
    assert replay.stage("Approval and promotion")["input"]["submitter"] == "release-managers"


@pytest.mark.parametrize("approval", ["before-first", "before-last"])
def test_a_promotion_nobody_approves_gives_up_the_canary_it_held(tmp_path: Path,
                                                                 approval: str) -> None:
    # No approver: the input is aborted (as when it is refused or times out), so the build
    # ends ABORTED without the last step, and gives up its candidate's hold, if any.
    replay, calls = _replay_promote(tmp_path, f", promotion: 'canary', "
                                              f"canaryApproval: '{approval}'", approver=None)
    assert replay.result == "ABORTED", replay.log()[-3000:]
    calls = [call for call in calls if call != "--version"]
    reference = "registry.example/team/model@sha256:" + "a" * 64
    give_up = (f"canary --env production --abort --if-held --candidate {reference} "
               "--by jenkins-team-promote-1")
    held = (f"canary --env production --candidate {reference} --hold-before-last "
            "--by jenkins-team-promote-1 --reports reports")
    # Before the first step nothing was held: `--if-held` says so and changes nothing.
    assert calls[-2:] == [held if approval == "before-last" else "check --profile release "
                          "--reports reports", give_up], calls


@pytest.mark.parametrize(("settings", "says"), [
    (", promotion: 'canary', canaryApproval: 'after'",
     "canaryApproval 'after' is not one of before-first, before-last"),
    (", canaryApproval: 'before-last'", "canaryApproval 'before-last' needs promotion 'canary'"),
])
def test_the_promote_step_refuses_a_canary_approval_it_cannot_run(
        tmp_path: Path, settings: str, says: str) -> None:
    replay, calls = _replay_promote(tmp_path, settings)
    assert replay.result == "FAILURE" and calls == [] and replay.stages == []
    assert says in (replay.error or "")


def test_the_promote_step_refuses_an_unknown_promotion(tmp_path: Path) -> None:
    replay, calls = _replay_promote(tmp_path, ", promotion: 'rolling'")
    assert replay.result == "FAILURE" and calls == [] and replay.stages == []
    assert "promotion 'rolling' is not one of all-at-once, canary" in (replay.error or "")


def test_approval_defaults_to_release_managers() -> None:
    settings = (ROOT / "vars/harnessSettings.groovy").read_text()
    assert re.search(r"approvers: 'release-managers',", settings)


def test_this_repository_s_jenkinsfile_calls_the_library() -> None:
    text = (ROOT / "Jenkinsfile").read_text()
    code = [line for line in text.splitlines() if line.strip() and not line.startswith("//")]
    assert code == [
        ('library identifier: "harness@${env.BRANCH_NAME ?: \'main\'}", '
         "retriever: legacySCM(scm)"),
        "harnessPullRequest(config: 'examples/credit/harness.yaml', harness: '.')",
    ]


def test_promotion_is_gated_approved_and_bounded() -> None:
    assert promotion_problems(PROMOTE.read_text()) == []


def publication_problems(text: str) -> list[str]:
    """What keeps the pull-request build from publishing its candidate exactly once, after
    its checks passed."""
    steps = shell_steps(text)
    publishes = [i for i, step in enumerate(steps) if re.search(r" publish( |$)", step)]
    checks = [i for i, step in enumerate(steps) if " check --profile" in step]
    if len(publishes) != 1:
        return [f"the candidate is published {len(publishes)} times, not once"]
    if not checks or publishes[0] < max(checks):
        return ["the candidate is published before its pull-request checks pass"]
    if "--write reports/candidate.ref" not in steps[publishes[0]]:
        return ["the published reference is not kept in reports/candidate.ref"]
    if "--if-configured" not in steps[publishes[0]]:
        return ["a team without a registry would fail at publish"]
    return []


def test_the_pull_request_build_publishes_its_candidate_once() -> None:
    assert publication_problems(PULL_REQUEST.read_text()) == []


# Broken copies of the promotion pipeline, and what the checks must say about each.
RELEASE_GATE = "sh '\"$HARNESS\" check --profile \"$HARNESS_PROFILE\" --reports reports'"
DEPLOY = 'sh \'"$HARNESS" deploy --env "$HARNESS_STAGING" --candidate "$CANDIDATE"\''
MUTATIONS = {
    "swallowed gate": (RELEASE_GATE, f"catchError {{ {RELEASE_GATE} }}", pipeline_problems,
                       "'catchError' has no place"),
    "ignored exit": (RELEASE_GATE, RELEASE_GATE.replace("reports'", "reports || true'"),
                     pipeline_problems, "'|| true' has no place"),
    "shell logic": (f"sh {INSTALL}\n                        }}",
                    ("sh 'pip install harness'\n"
                     "                        }"), pipeline_problems,
                    "not a harness step: pip install harness"),
    "no properties kept": ("keepProperties: true", "keepProperties: false", pipeline_problems,
                           "JUnit reports/**/junit/*.xml not published"),
    "executor held": ("        agent none\n", "        agent any\n", promotion_problems,
                      "the pipeline holds an agent"),
    "anyone approves": ('submitter "${settings.approvers}"', "submitter 'developers'",
                        promotion_problems, "not restricted to the configured approvers"),
    "no timeout": ("options { timeout(time: 24, unit: 'HOURS') }", "", promotion_problems,
                   "no timeout in hours"),
    "approver dropped": ('--approver "$APPROVER"', '--approver "$BUILD_USER"',
                         promotion_problems, "not given the candidate and the approver"),
    "retrains": ("                    unstash 'evidence'\n",
                 ("                    unstash 'evidence'\n"
                  "                    sh '\"$HARNESS\" build'\n"), promotion_problems,
                 'the promotion trains: "$HARNESS" build'),
    "deploys a rebuild": (DEPLOY, DEPLOY.replace(' --candidate "$CANDIDATE"', ""),
                          promotion_problems, "does not run deploy --env"),
    "canary not held": ("--hold-before-last ", "", promotion_problems,
                        "do not hold before the last step"),
    "resumed by anyone": ('--resume --approver "$APPROVER"', '--resume --approver "$BUILD_TAG"',
                          promotion_problems, "the held canary is not resumed with the approver"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_the_checks_catch_a_broken_promotion_pipeline(name: str) -> None:
    old, new, check, expected = MUTATIONS[name]
    text = PROMOTE.read_text()
    assert old in text, f"mutation '{name}' no longer applies: update it"
    problems = check(text.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


def test_the_checks_catch_stages_out_of_order() -> None:
    text = PROMOTE.read_text()
    deploy = text.index("                    stage('Deploy to staging')")
    release = text.index("                    stage('Gate: release checks on staging')")
    end = text.index("                }\n                post {")
    swapped = text[:deploy] + text[release:end] + text[deploy:release] + text[end:]
    assert "gates must come before deploy" in " ".join(promotion_problems(swapped))


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("publish --if-configured --write reports/candidate.ref", "publish --if-configured",
     "not kept in reports/candidate.ref"),
    ("publish --if-configured --write", "publish --write", "without a registry would fail"),
    ("sh '\"$HARNESS\" publish", "sh 'echo", "0 times"),
])
def test_the_checks_catch_a_build_that_does_not_publish_once(old: str, new: str,
                                                             expected: str) -> None:
    text = PULL_REQUEST.read_text()
    assert old in text
    assert any(expected in p for p in publication_problems(text.replace(old, new, 1)))
    stage_text = text[text.index("            stage('Publish candidate')"):
                      text.index("        post {")].rstrip().removesuffix("}").rstrip()
    early = text.replace(stage_text, "").replace(
        "            stage('Checks')", stage_text.strip() + "\n            stage('Checks')")
    assert publication_problems(early) == [
        "the candidate is published before its pull-request checks pass"]


def test_the_structure_reader_sees_through_strings_and_comments() -> None:
    text = """
    // a comment with { a brace
    pipeline {
        stages { stage('a') { steps { sh 'echo "}" /* not a comment */' } } }
        /* a block comment } */
    }
    """
    [block] = parse_groovy_blocks(text).find("pipeline")
    assert [b.head for b in block.find(r"stage\(.*\)")] == ["stage('a')"]
    with pytest.raises(ValueError, match="unclosed"):
        parse_groovy_blocks("pipeline { stage('x') { ")
    with pytest.raises(ValueError, match="unterminated"):
        parse_groovy_blocks("sh 'echo")


def compile_groovy(sources: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Compile Groovy sources (name: text) with the real groovyc: a syntax check, nothing
    runs. Debian's groovy is 2.4, the Groovy version Jenkins runs pipelines with."""
    groovyc = require_groovy("groovyc")
    paths = []
    for name, text in sources.items():
        path = folder / (re.sub(r"\W", "_", name) + ".groovy")
        # `@Library(...) _` names a class only Jenkins has; the rest compiles as it is.
        path.write_text(re.sub(r"@Library\([^)]*\)\s*_", "", text))
        paths.append(str(path))
    return subprocess.run([groovyc, "-d", str(folder / "classes"), *paths], env=groovy_env(),
                          capture_output=True, text=True, timeout=300, check=False)


def test_pipelines_the_library_and_the_seed_job_compile_as_groovy(tmp_path: Path) -> None:
    sources = {p.relative_to(ROOT).as_posix(): p.read_text() for p in PIPELINE_SOURCES}
    sources["replay"] = REPLAY.read_text()
    casc = yaml.safe_load((ROOT / "jenkins/casc.yaml").read_text())
    sources.update({f"seed_job_{i}": job["script"] for i, job in enumerate(casc["jobs"])})
    result = compile_groovy(sources, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_groovyc_rejects_a_broken_pipeline(tmp_path: Path) -> None:
    text = PULL_REQUEST.read_text()
    broken = text.replace("allowMissing: true]", "allowMissing: true", 1)
    assert broken != text and parse_groovy_blocks(broken), "braces alone do not show it"
    result = compile_groovy({"harnessPullRequest": broken}, tmp_path)
    assert result.returncode != 0 and "startup failed" in result.stderr
