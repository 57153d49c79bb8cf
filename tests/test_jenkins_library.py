"""The Jenkinsfiles, read as Jenkins reads their structure: thin (every step a `harness`
command), publishing what the harness writes, and shaped so a failed gate stops the
promotion and the approval holds no executor. No Jenkins runs here: the Groovy that
Jenkins runs pipelines with (2.4) compiles them, and these check the declarative
structure block by block, each check shown to catch a broken copy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.pipelines import JENKINSFILES, ROOT, Block, parse_groovy_blocks, shell_steps

PROMOTE = ROOT / "jobs/pipelines/promote.Jenkinsfile"
BOOTSTRAP = {"make install", "make install model"}  # installs the harness itself
HARNESS = re.compile(r'^\.venv/bin/harness --config "\$HARNESS_CONFIG" \w+( |$)')
# Steps that would let a failed gate pass unnoticed, or logic that belongs in Python.
FORBIDDEN = re.compile(r"\b(catchError|warnError|returnStatus|propagate|unstable|try|"
                       r"currentBuild|script|bat|powershell|when|parallel|matrix|failFast)\b"
                       r"|\|\| *true|set \+e")
GATES = ("Deploy to staging", "Gate: release checks on staging", "Approval and promotion")
# The one step that builds a model: it belongs to the pull-request and main builds.
TRAINS = re.compile(r"\bmake\b[^']*\bmodel\b|credit_model\.train|\btrain\b")


def pipeline(text: str) -> Block:
    [block] = parse_groovy_blocks(text).find(r"pipeline")
    return block


def stage(root: Block, name: str) -> Block | None:
    found = root.find(rf"stage\('{re.escape(name)}'\)")
    return found[0] if len(found) == 1 else None


def directive(block: Block, head: str) -> Block | None:
    found = [b for b in block.children if b.head == head]
    return found[0] if len(found) == 1 else None


def pipeline_problems(text: str) -> list[str]:
    """What makes a Jenkinsfile other than thin and publishing its reports."""
    problems = []
    steps = shell_steps(text)
    if not steps:
        problems.append("no sh step")
    problems += [f"not a harness step: {s}" for s in steps
                 if s not in BOOTSTRAP and not HARNESS.match(s)]
    source = "\n".join(line.split("//")[0] for line in text.splitlines())
    problems += [f"'{m.group()}' has no place in a thin pipeline"
                 for m in FORBIDDEN.finditer(source)]
    root = pipeline(text)
    options = directive(root, "options")
    if options is None or "withFolderProperties()" not in options.own_text():
        problems.append("options lack withFolderProperties(): HARNESS_CONFIG comes from it")
    always = " ".join(" ".join(b.body.split()) for b in root.find("always"))
    if "junit testResults: 'reports/**/*.xml', keepProperties: true" not in always:
        problems.append("JUnit reports/**/*.xml not published with their properties")
    if "archiveArtifacts artifacts: 'reports/**'" not in always:
        problems.append("reports not archived")
    for profile in re.findall(r"check --profile (\w+)", " ".join(steps)):
        if f"reportDir: 'reports/{profile}/html', reportFiles: 'index.html'" not in always:
            problems.append(f"no HTML report published for profile {profile}")
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
    for block, needle in ((deploy, 'deploy --env staging --candidate "$CANDIDATE"'),
                          (release, "check --profile release")):
        if needle not in block.body:
            problems.append(f"{block.head} does not run {needle}")
    problems += [f"the promotion trains: {step}" for step in shell_steps(text)
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
        if fields.get("submitter") != "'release-managers'":
            problems.append("approval is not restricted to release-managers")
        if fields.get("submitterParameter") != "'APPROVER'":
            problems.append("the approver is not recorded in APPROVER")
    options = directive(approval, "options")
    if options is None or not re.search(r"timeout\(time: \d+, unit: 'HOURS'\)", options.body):
        problems.append("no timeout in hours bounds the approval")
    if 'promote --candidate "$CANDIDATE" --approver "$APPROVER"' not in approval.body:
        problems.append("harness promote is not given the candidate and the approver")
    return problems


@pytest.mark.parametrize("path", JENKINSFILES, ids=[p.relative_to(ROOT).as_posix()
                                                    for p in JENKINSFILES])
def test_pipeline_is_thin_and_publishes_its_reports(path: Path) -> None:
    assert pipeline_problems(path.read_text()) == []


def test_promotion_is_gated_approved_and_bounded() -> None:
    assert promotion_problems(PROMOTE.read_text()) == []


def publication_problems(text: str) -> list[str]:
    """What keeps the pull-request build from publishing its candidate exactly once, after
    its checks passed."""
    steps = shell_steps(text)
    publishes = [i for i, step in enumerate(steps) if re.search(r" publish( |$)", step)]
    checks = [i for i, step in enumerate(steps) if "check --profile pr" in step]
    if len(publishes) != 1:
        return [f"the candidate is published {len(publishes)} times, not once"]
    if not checks or publishes[0] < max(checks):
        return ["the candidate is published before its pull-request checks pass"]
    if "--write reports/candidate.ref" not in steps[publishes[0]]:
        return ["the published reference is not kept in reports/candidate.ref"]
    return []


def test_the_pull_request_build_publishes_its_candidate_once() -> None:
    assert publication_problems((ROOT / "Jenkinsfile").read_text()) == []


# Broken copies of the promotion pipeline, and what the checks must say about each.
PR_GATE = "sh '.venv/bin/harness --config \"$HARNESS_CONFIG\" check --profile pr --reports reports'"
RELEASE_GATE = PR_GATE.replace("--profile pr", "--profile release")
DEPLOY = ('sh \'.venv/bin/harness --config "$HARNESS_CONFIG" deploy --env staging '
          '--candidate "$CANDIDATE"\'')
MUTATIONS = {
    "swallowed gate": (RELEASE_GATE, f"catchError {{ {RELEASE_GATE} }}", pipeline_problems,
                       "'catchError' has no place"),
    "ignored exit": (RELEASE_GATE, RELEASE_GATE.replace("reports'", "reports || true'"),
                     pipeline_problems, "'|| true' has no place"),
    "shell logic": ("sh 'make install'", "sh 'pip install harness'", pipeline_problems,
                    "not a harness step: pip install harness"),
    "no properties kept": ("keepProperties: true", "keepProperties: false", pipeline_problems,
                           "JUnit reports/**/*.xml not published"),
    "executor held": ("    agent none\n", "    agent any\n", promotion_problems,
                      "the pipeline holds an agent"),
    "anyone approves": ("submitter 'release-managers'", "submitter 'developers'",
                        promotion_problems, "not restricted to release-managers"),
    "no timeout": ("options { timeout(time: 24, unit: 'HOURS') }", "", promotion_problems,
                   "no timeout in hours"),
    "approver dropped": ('--approver "$APPROVER"', '--approver "$BUILD_USER"',
                         promotion_problems, "not given the candidate and the approver"),
    "retrains": ("sh 'make install'\n", "sh 'make install model'\n", promotion_problems,
                 "the promotion trains: make install model"),
    "deploys a rebuild": (DEPLOY, DEPLOY.replace(' --candidate "$CANDIDATE"', ""),
                          promotion_problems, 'does not run deploy --env staging --candidate'),
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
    deploy = text.index("                stage('Deploy to staging')")
    release = text.index("                stage('Gate: release checks on staging')")
    end = text.index("            }\n            post {")
    swapped = text[:deploy] + text[release:end] + text[deploy:release] + text[end:]
    assert "gates must come before deploy" in " ".join(promotion_problems(swapped))


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("publish --write reports/candidate.ref", "publish", "not kept in reports/candidate.ref"),
    ("sh '.venv/bin/harness --config \"$HARNESS_CONFIG\" publish", "sh 'echo", "0 times"),
])
def test_the_checks_catch_a_build_that_does_not_publish_once(old: str, new: str,
                                                             expected: str) -> None:
    text = (ROOT / "Jenkinsfile").read_text()
    assert old in text
    assert any(expected in p for p in publication_problems(text.replace(old, new, 1)))
    stage = text[text.index("        stage('Publish candidate')"):
                 text.index("    post {")].rstrip().removesuffix("}").rstrip()
    early = text.replace(stage, "").replace("        stage('PR checks')",
                                            stage.strip() + "\n        stage('PR checks')")
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
    assert [b.head for b in block.find(r".*")] == ["stages", "stage('a')", "steps"]
    with pytest.raises(ValueError, match="unclosed block 'stage"):
        parse_groovy_blocks("pipeline { stage('x') { ")
    with pytest.raises(ValueError, match="unterminated string"):
        parse_groovy_blocks("sh 'echo")


def compile_groovy(sources: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Compile Groovy sources (name: text) with the real groovyc: a syntax check, nothing
    runs. Debian's groovy is 2.4, the Groovy version Jenkins runs pipelines with."""
    groovyc = shutil.which("groovyc")
    if groovyc is None:
        if os.environ.get("CI"):
            pytest.fail("groovyc is missing: .ci/run installs Debian's groovy package")
        pytest.skip("groovyc is not installed (apt-get install groovy)")
    env = dict(os.environ)
    if not Path(env.get("JAVA_HOME", "/nonexistent"), "bin/java").exists():
        java = shutil.which("java")
        assert java, "groovyc needs a Java runtime"
        env["JAVA_HOME"] = str(Path(java).resolve().parents[1])
    paths = []
    for name, text in sources.items():
        path = folder / (re.sub(r"\W", "_", name) + ".groovy")
        path.write_text(text)
        paths.append(str(path))
    return subprocess.run([groovyc, "-d", str(folder / "classes"), *paths], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_jenkinsfiles_and_the_seed_job_compile_as_groovy(tmp_path: Path) -> None:
    sources = {p.relative_to(ROOT).as_posix(): p.read_text() for p in JENKINSFILES}
    casc = yaml.safe_load((ROOT / "jenkins/casc.yaml").read_text())
    sources.update({f"seed_job_{i}": job["script"] for i, job in enumerate(casc["jobs"])})
    result = compile_groovy(sources, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_groovyc_rejects_a_broken_jenkinsfile(tmp_path: Path) -> None:
    text = (ROOT / "Jenkinsfile").read_text()
    broken = text.replace("allowMissing: true]", "allowMissing: true", 1)
    assert broken != text and parse_groovy_blocks(broken), "braces alone do not show it"
    result = compile_groovy({"Jenkinsfile": broken}, tmp_path)
    assert result.returncode != 0 and "startup failed" in result.stderr
    assert "publishHTML target: [reportName" in result.stderr, "the error points at the map"
