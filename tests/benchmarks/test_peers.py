"""benchmarks/peers.py's measuring and printing helpers, on real processes: wrk's figures
read back through our Lua ``done`` line from a real run, a process tree's CPU and memory
from /proc, the tables, and the options. (The whole comparison starts three model servers
and takes minutes: it is run by hand, `make peers`, never here.)"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.service_process import free_port

ROOT = Path(__file__).resolve().parents[2]


def _load_script(path: Path) -> ModuleType:
    """A benchmark script as a module, without putting benchmarks/ on everyone's path."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


peers = _load_script(ROOT / "benchmarks" / "peers.py")

# A server whose child process listens and answers every request with 200: the tree shape
# of `mlflow models serve` (the command, then uvicorn under it).
PARENT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[2], sys.argv[1]])
child.wait()
"""
CHILD = """
import http.server, sys

class Answer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        sum(i * i for i in range(20000))  # some CPU per request, to be measured
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Answer).serve_forever()
"""


@pytest.fixture()
def tree_server():
    port = free_port()
    # Its own process group: the child is ended with the parent, by the group's id.
    process = subprocess.Popen([sys.executable, "-c", PARENT, str(port), CHILD],
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                tree = peers.ProcessTree.listening_on(port)
                break
            except StopIteration:
                if time.monotonic() > deadline:
                    raise RuntimeError("the test server did not listen") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", tree, process.pid
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.skipif(peers.shutil.which("wrk") is None, reason="wrk is not installed")
def test_a_real_wrk_run_is_read_back_with_its_percentiles_and_the_servers_cpu(
        tree_server, tmp_path):
    url, tree, root = tree_server
    # The listener is the child; the tree is rooted at the process this test started.
    assert tree.root.pid == root and len(tree.processes()) == 2
    script = peers.wrk_script(tmp_path, "paced", {"Age": 30, "Home": None}, delay_ms=5)
    assert "function done" in script.read_text()
    cpu = tree.cpu_s()
    requests, errors, seconds, p50, p99, p999 = peers.run_wrk(url, script, 4, 1)
    used = tree.cpu_s() - cpu
    assert requests > 50 and errors == 0 and 0.9 < seconds < 3
    assert 0 < p50 <= p99 <= p999 < 1000
    assert used > 0.01  # the child answered, and its CPU counts as the server's
    assert tree.peak_mib() > 5


def test_wrk_output_without_our_line_names_what_is_missing():
    with pytest.raises(ValueError, match="no PEERS line"):
        peers.parse_wrk("Running 1s test @ http://127.0.0.1:1\n  0 requests in 1.00s\n")
    assert peers.parse_wrk("x\nPEERS 10 1 2000000 1500 9000 12000\n") == (
        10, 1, 2.0, 1.5, 9.0, 12.0)


def test_tables_align_text_left_and_numbers_right():
    text = peers.table("title", ["tool", "rows", "s"],
                       [["harness", 1_000_000, 2.5], ["mlflow models serve", 10, 1234.0],
                        ["x", 5, float("nan")]])
    lines = text.splitlines()
    assert lines[0] == "title"
    assert lines[1] == "  tool                      rows      s"
    assert lines[2] == "  harness              1,000,000   2.50"
    assert lines[3] == "  mlflow models serve         10  1,234"
    assert lines[4] == "  x                            5      -"


def test_ratio_lines_say_whether_a_goal_is_met():
    assert peers.ratio_line("p99", 8.0, 20.0, "mlflow", "<= 0.8x", True) == (
        "  p99: harness 8.00 / mlflow 20.0 = 0.40x (goal <= 0.8x: met)")
    assert peers.ratio_line("CPU", 3.0, 2.0, "MLServer", "<= 1x", False).endswith(
        "= 1.50x (goal <= 1x: MISSED)")


def test_quick_shortens_every_section_and_only_chooses_them():
    args = peers.parse_args(["--quick", "--only", "load", "startup"])
    assert (args.seconds, args.rows, args.runs) == (2, [2_000], 1)
    assert args.only == ["load", "startup"]
    assert peers.parse_args([]).only == list(peers.SECTIONS)
