"""The files between the harness (numpy 2, pandas 3) and deepchecks' environment (numpy 1,
pandas 2): written here, read there for real, and nothing lost on the way."""

from __future__ import annotations

import io
import json
import subprocess

import numpy as np
import pandas as pd

from harness.gates.deepchecks_assets import exchange
from harness.gates.deepchecks_env import RUNNER

# Read in deepchecks' environment: each column's dtype and values, as JSON can say them.
READ_BACK = """
import json, math, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import numpy as np
import exchange
frame = exchange.read_frame(Path(sys.argv[2]))
def show(v):
    if v is None: return "None"
    if isinstance(v, float) and math.isnan(v): return "NaN"
    return repr(v.item() if isinstance(v, np.generic) else v)
labels, proba = exchange.read_predictions(Path(sys.argv[3]))
print(json.dumps({
    "columns": {c: [str(frame[c].dtype), [show(v) for v in frame[c]]] for c in frame.columns},
    "labels": [str(labels.dtype), [show(v) for v in labels]],
    "proba": proba.tolist(),
}))
"""


def test_a_frame_and_predictions_cross_to_deepchecks_unchanged(tmp_path,
                                                                deepchecks_environment):
    csv = "Age,Income,Home,Flag\n30,1.5,owner,True\n41,,,False\n25,0.1,rent,True\n"
    frame = pd.read_csv(io.StringIO(csv))  # as the harness reads a dataset
    # NaN and None are two kinds of missing value to deepchecks (Mixed Nulls counts them).
    frame["Mixed"] = pd.Series([None, "a", float("nan")], dtype=object)
    frame.loc[1, "Mixed"] = 7
    frame["When"] = pd.to_datetime(["2024-01-01", "2024-02-29", "2024-12-31"])
    exchange.write_frame(tmp_path / "frame", frame)
    exchange.write_predictions(tmp_path / "pred", ["bad", "good", "bad"],
                               np.array([[0.9, 0.1], [1 / 3, 2 / 3], [0.5, 0.5]]))
    done = subprocess.run(
        [str(deepchecks_environment.python), "-c", READ_BACK, str(RUNNER.parent),
         str(tmp_path / "frame"), str(tmp_path / "pred")],
        capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert seen["columns"] == {
        "Age": ["int64", ["30", "41", "25"]],
        "Income": ["float64", ["1.5", "NaN", "0.1"]],
        # pandas 3 reads text as 'str'; there it is what pandas 2 reads a CSV as.
        "Home": ["object", ["'owner'", "NaN", "'rent'"]],
        "Flag": ["bool", ["True", "False", "True"]],
        "Mixed": ["object", ["None", "7", "NaN"]],
        # Its unit as the harness had it (pandas 3 parses to microseconds, pandas 2 to ns).
        "When": [str(frame["When"].dtype), [f"Timestamp('{d} 00:00:00')" for d in
                                            ("2024-01-01", "2024-02-29", "2024-12-31")]],
    }
    assert seen["labels"] == ["object", ["'bad'", "'good'", "'bad'"]]
    assert seen["proba"] == [[0.9, 0.1], [1 / 3, 2 / 3], [0.5, 0.5]]  # exact floats


def test_regression_predictions_stay_numbers(tmp_path):
    exchange.write_predictions(tmp_path, [1.25, 2.0, -0.5], None)
    labels, proba = exchange.read_predictions(tmp_path)
    assert labels.dtype == float and labels.tolist() == [1.25, 2.0, -0.5] and proba is None


def test_cells_become_plain_json():
    assert [exchange.plain(v) for v in (np.int64(3), np.float32(0.5), pd.NA, pd.NaT, "x")] == [
        3, 0.5, None, None, "x"]
