"""Reading the Jenkins side of the project for tests: render the jobs in jobs/ with
jenkins-job-builder, read the pipelines' block structure (this repository's Jenkinsfile and
the shared library's steps in vars/), and find every `harness` command they run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.project import ROOT

# The shared library's pipeline steps (vars/harness<Pipeline>.groovy) and its helpers.
LIBRARY_PIPELINES = tuple(sorted(p for p in (ROOT / "vars").glob("harness*.groovy")
                                 if "pipeline {" in p.read_text()))
LIBRARY_SOURCES = tuple(sorted((ROOT / "vars").glob("*.groovy")))
PIPELINE_SOURCES = (ROOT / "Jenkinsfile", *LIBRARY_SOURCES)

# Values the pipelines' variables stand for when a command is checked against the parser.
SAMPLE_VALUES = {
    "HARNESS_CONFIG": "models/sample/harness.yaml",
    "HARNESS_PROFILE": "pr",
    "HARNESS_STAGING": "staging",
    "HARNESS_PRODUCTION": "production",
    "HARNESS_DEPLOY": "staging",
    "CANDIDATE": "registry.example:5000/credit-scoring/model@sha256:" + "0123456789ab" * 5 + "0123",
    "APPROVER": "alice",
    "BUILD_TAG": "jenkins-credit-scoring-promote-7",
}


def render_jobs(jobs_dir: Path, out: Path, extra: list[Path] = ()) -> dict[str, ET.Element]:
    """Render ``jobs_dir`` (and ``extra`` folders, merged with it as jenkins-jobs merges a
    path list) with the real ``jenkins-jobs test``; return each job's XML by its full
    Jenkins name (``folder/job``)."""
    jenkins_jobs = Path(sys.executable).with_name("jenkins-jobs")
    paths = os.pathsep.join(str(p) for p in (jobs_dir, *extra))
    result = subprocess.run(
        [str(jenkins_jobs), "--conf", "/dev/null", "test", "--config-xml", paths,
         "-o", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"jenkins-jobs test failed:\n{result.stderr}")
    return {
        path.parent.relative_to(out).as_posix(): ET.parse(path).getroot()
        for path in sorted(out.rglob("config.xml"))
    }


@dataclass
class Block:
    """A ``head { ... }`` block of a Jenkinsfile, e.g. ``stage('Build')`` and its body."""

    head: str
    body: str
    children: list[Block] = field(default_factory=list)

    def find(self, pattern: str) -> list[Block]:
        """Every block below this one (depth first, in file order) whose head matches."""
        found = []
        for child in self.children:
            if re.fullmatch(pattern, child.head):
                found.append(child)
            found.extend(child.find(pattern))
        return found

    def own_text(self) -> str:
        """The body without its nested blocks: the statements directly in this block."""
        text = self.body
        for child in self.children:
            text = text.replace(child.body, "", 1)
        return text


_STRING = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"", re.DOTALL
)


def parse_groovy_blocks(text: str) -> Block:
    """The nesting of ``{ }`` blocks in Groovy source, comments removed, strings kept
    whole. Raises ValueError on unbalanced braces or an unterminated string or comment."""
    clean = []
    i = 0
    while i < len(text):
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated /* comment")
            i = end + 2
        elif text[i] in "'\"":
            match = _STRING.match(text, i)
            if not match:
                raise ValueError(f"unterminated string at offset {i}: {text[i:i + 40]!r}")
            clean.append(match.group())
            i = match.end()
        else:
            clean.append(text[i])
            i += 1
    source = "".join(clean)
    root = Block("", source)
    stack: list[tuple[Block, int]] = [(root, 0)]
    statement_start = 0
    i = 0
    while i < len(source):
        if source[i] in "'\"":
            i = _STRING.match(source, i).end()  # type: ignore[union-attr]
            continue
        char = source[i]
        if char == "{":
            head = source[statement_start:i].strip()
            block = Block(head, "")
            stack[-1][0].children.append(block)
            stack.append((block, i + 1))
            statement_start = i + 1
        elif char == "}":
            if len(stack) == 1:
                raise ValueError(f"unbalanced '}}' at offset {i}")
            block, start = stack.pop()
            block.body = source[start:i]
            statement_start = i + 1
        elif char in "\n;":
            statement_start = i + 1
        i += 1
    if len(stack) != 1:
        raise ValueError(f"unclosed block '{stack[-1][0].head}'")
    return root


_SH = re.compile(r"\bsh\s+(?P<q>'|\")(?P<cmd>.*?)(?P=q)")
_HARNESS = re.compile(r'(?:^|[\s;&|(])(?:\S*/harness|harness|"\$HARNESS")\s+(?P<args>[^;&|\n]*)')
_MAKE = re.compile(r"^\s*make\s+(?P<targets>[\w\s.-]+)$")


def shell_steps(jenkinsfile: str) -> list[str]:
    """The shell commands of a Jenkinsfile's ``sh '...'`` steps, in order."""
    return [m.group("cmd") for m in _SH.finditer(jenkinsfile)]


def xml_shell_commands(jobs: dict[str, ET.Element]) -> list[str]:
    """Shell commands and inline pipeline scripts in rendered job XML."""
    return [
        element.text or ""
        for root in jobs.values()
        for element in root.iter()
        if element.tag in {"command", "script"}
    ]


def make_recipes(targets: list[str], makefile: Path = ROOT / "Makefile") -> list[str]:
    """The recipe lines of the Makefile targets (and the targets they depend on)."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    variables = dict(re.findall(r"^(\w+)\s*[:?]?=\s*(.*)$", makefile.read_text(), re.MULTILINE))
    current: list[str] | None = None
    for line in makefile.read_text().splitlines():
        if line.startswith("\t") and current is not None:
            current.append(line.strip())
            continue
        rule = re.match(r"^([^\s:=#][^:=]*):(?!=)(.*)$", line)
        current = None
        if rule:
            current = []
            for name in rule.group(1).split():
                rules[_expand(name, variables)] = (
                    [_expand(d, variables) for d in rule.group(2).split()], current)
    seen: set[str] = set()
    lines: list[str] = []

    def visit(target: str) -> None:
        if target in seen or target not in rules:
            return
        seen.add(target)
        prerequisites, recipe = rules[target]
        for prerequisite in prerequisites:
            visit(prerequisite)
        lines.extend(_expand(line, variables) for line in recipe)

    for target in targets:
        if target not in rules:
            raise AssertionError(f"make target '{target}' is not in {makefile}")
        visit(target)
    return lines


def _expand(text: str, variables: dict[str, str]) -> str:
    for _ in range(5):
        text = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), text)
    return text


def harness_commands(shell: str) -> list[list[str]]:
    """The argument lists of every ``harness`` invocation in a shell command line, with
    the pipelines' variables replaced by sample values. An unknown variable is an error:
    give it a sample value in SAMPLE_VALUES."""
    commands = []
    for match in _HARNESS.finditer(shell):
        args = match.group("args")
        for name in re.findall(r"\$\{?(\w+)\}?", args):
            if name not in SAMPLE_VALUES:
                raise AssertionError(f"no sample value for ${name} in: harness {args}")
        args = re.sub(r"\$\{?(\w+)\}?", lambda m: SAMPLE_VALUES[m.group(1)], args)
        commands.append(shlex.split(args))
    return commands


def all_harness_invocations(jobs: dict[str, ET.Element]) -> list[tuple[str, list[str]]]:
    """Every ``harness`` command the pipelines (the Jenkinsfile and the library's steps),
    the rendered jobs and the make targets they call run: (where it is, its arguments)."""
    found: list[tuple[str, list[str]]] = []
    sources: list[tuple[str, str]] = []
    for pipeline in PIPELINE_SOURCES:
        name = pipeline.relative_to(ROOT).as_posix()
        for step in shell_steps(pipeline.read_text()):
            sources.append((name, step))
            make = _MAKE.match(step)
            if make:
                sources.extend((f"{name} -> make {make.group('targets')}", line)
                               for line in make_recipes(make.group("targets").split()))
    sources.extend(("jobs/ (rendered)", command) for command in xml_shell_commands(jobs))
    for where, shell in sources:
        found.extend((where, argv) for argv in harness_commands(shell))
    return found
