"""deepchecks' own virtualenv, for real: created from PyPI once per session in the session's
cache folder, reused after, never trusted half-built, and built once when processes race."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

import pytest

from harness.errors import DeepchecksRunError
from harness.gates import deepchecks_env


def _harness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, env=env, timeout=600, check=False)


def test_the_environment_is_created_once_and_reused(deepchecks_environment, harness_cache):
    env = deepchecks_environment
    assert env.folder.parent == harness_cache / "deepchecks"
    assert [p.name for p in env.folder.parent.iterdir() if p.is_dir()] == [env.folder.name]
    marker = env.folder / deepchecks_env.MARKER
    recorded = json.loads(marker.read_text())
    assert recorded["pins"] == list(deepchecks_env.PINS) and recorded["deepchecks"] == "0.19.1"
    before = (marker.stat().st_mtime_ns, (env.folder / "lib").stat().st_mtime_ns)

    again = _harness("deepchecks", "install")
    assert again.returncode == 0, again.stderr
    ready = f"deepchecks 0.19.1: {env.folder} (ready since {recorded['created']})"
    assert again.stdout.strip() == ready
    assert not deepchecks_env.ensure().created
    assert (marker.stat().st_mtime_ns, (env.folder / "lib").stat().st_mtime_ns) == before
    # Its pins hold there, whatever the harness's own environment has.
    script = "import numpy, pandas; print(numpy.__version__, pandas.__version__)"
    versions = subprocess.run([str(env.python), "-c", script], capture_output=True, text=True,
                              check=True).stdout.split()
    assert versions[0].startswith("1.") and versions[1].startswith("2.")


def test_a_failed_install_says_what_ran_and_leaves_nothing_trusted(tmp_path):
    # No package index: what a Jenkins agent without PyPI (or a mirror) sees.
    env = {**os.environ, deepchecks_env.CACHE_ENV: str(tmp_path), "PIP_NO_INDEX": "1"}
    done = _harness("deepchecks", "install", env=env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("harness: error:")]
    assert "pip install" in error and "deepchecks==0.19.1" in error and "failed (exit" in error
    assert "harness deepchecks install" in done.stderr and "PIP_INDEX_URL" in done.stderr
    assert "No matching distribution" in done.stderr  # pip's own words, from its output
    [creating] = [line for line in done.stdout.splitlines() if "creating" in line]
    assert str(tmp_path / "deepchecks" / "py3.") in creating
    assert not [p for p in (tmp_path / "deepchecks").iterdir() if p.is_dir()]


def test_an_environment_where_deepchecks_does_not_import_is_never_trusted(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv(deepchecks_env.CACHE_ENV, str(tmp_path))
    pins = ("setuptools<81",)  # a virtualenv that installs, without deepchecks
    announced: list[str] = []
    with pytest.raises(DeepchecksRunError, match="No module named 'deepchecks'") as raised:
        deepchecks_env.ensure(pins, announce=announced.append)
    folder = deepchecks_env.env_folder(pins)
    assert str(folder) in raised.value.args[0] and "harness deepchecks install" in str(
        raised.value)
    creating = (f"harness: creating deepchecks' environment in {folder} "
                "(once per pin set; about a minute)")
    assert announced == [creating]
    assert not folder.exists()


def test_a_process_waits_for_another_creating_the_environment(tmp_path):
    """Two processes racing: the second waits on the lock and takes what the first built."""
    env = {**os.environ, deepchecks_env.CACHE_ENV: str(tmp_path)}
    pins = ("deepchecks==0.19.1", "a pin set of this test alone")
    folder = tmp_path / "deepchecks" / deepchecks_env.env_folder(pins).name
    folder.parent.mkdir(parents=True)
    lock = (folder.parent / f"{folder.name}.lock").open("a")
    fcntl.flock(lock, fcntl.LOCK_EX)  # this test is the first process, still building
    script = ("from harness.gates import deepchecks_env as e\n"
              f"env = e.ensure({pins!r}, announce=print)\n"
              "print('took', env.folder, 'created' if env.created else 'ready')\n")
    second = subprocess.Popen([sys.executable, "-u", "-c", script], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert second.stdout is not None
        assert second.stdout.readline().strip() == (
            f"harness: waiting for another process creating {folder}")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
        deepchecks_env.mark_complete(folder, pins, "0.19.1", 1.0)
        fcntl.flock(lock, fcntl.LOCK_UN)
        out, err = second.communicate(timeout=60)
    finally:
        lock.close()
        second.kill()
    assert second.returncode == 0, err
    assert out.strip() == f"took {folder} ready"  # no second build


def test_a_missing_interpreter_is_a_clear_error(tmp_path):
    gone = deepchecks_env.DeepchecksEnv(tmp_path / "removed")
    with pytest.raises(DeepchecksRunError, match="has no Python"):
        deepchecks_env.run_runner(gone, ["list", str(tmp_path / "x.json")], 10, "listing")


def test_the_cache_folder_follows_xdg_unless_the_harness_variable_is_set(monkeypatch,
                                                                         tmp_path):
    monkeypatch.delenv(deepchecks_env.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert deepchecks_env.cache_root() == tmp_path / "xdg" / "harness"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert deepchecks_env.cache_root() == tmp_path / "home" / ".cache" / "harness"
    monkeypatch.setenv(deepchecks_env.CACHE_ENV, str(tmp_path / "mine"))
    assert deepchecks_env.env_folder().parent == tmp_path / "mine" / "deepchecks"
    # Another pin set, another folder: an upgrade never reuses an old environment.
    assert deepchecks_env.env_folder(("deepchecks==0.20.0",)) != deepchecks_env.env_folder()

