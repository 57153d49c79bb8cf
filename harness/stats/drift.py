"""How far one column's distribution moved between a reference sample and a current one.

- PSI (population stability index), numeric and categorical: ``sum((c - r) * ln(c / r))``
  over bins, ``r`` and ``c`` the shares of the reference and current rows in each bin.
  Numeric bins are the reference's quantiles (``bins`` equal-frequency bins, ties merged),
  open-ended at both ends so every current value falls in one; a categorical column's bins
  are its values, a missing value being a value of its own. A share of 0 is raised to
  ``epsilon`` so an empty bin gives a large but finite term.
- numerics: the two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``);
  missing values are left out (the schema check judges them).
- categoricals: the chi-square test of homogeneity on the two samples' counts
  (``scipy.stats.chi2_contingency``).

Pure functions on pandas Series; scipy is imported here, never at the package face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_BINS = 10
DEFAULT_EPSILON = 1e-4
_MISSING = "(missing)"


@dataclass(frozen=True)
class Test:
    """A test's statistic and its p-value."""

    statistic: float
    p_value: float


def quantile_edges(reference: pd.Series, bins: int = DEFAULT_BINS) -> np.ndarray:
    """The inner edges of ``bins`` equal-frequency bins of the reference (ties merged)."""
    values = reference.dropna().to_numpy(dtype=float)
    inner = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(inner)


def _shares(counts: np.ndarray, epsilon: float) -> np.ndarray:
    total = counts.sum()
    shares = counts / total if total else np.zeros_like(counts, dtype=float)
    return np.maximum(shares, epsilon)


def _psi_of_counts(reference: np.ndarray, current: np.ndarray, epsilon: float) -> float:
    r, c = _shares(reference, epsilon), _shares(current, epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def numeric_counts(reference: pd.Series, current: pd.Series,
                   bins: int = DEFAULT_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's count per reference-quantile bin; a bin is ``(edge_i, edge_i+1]``."""
    edges = quantile_edges(reference, bins)
    width = len(edges) + 1

    def count(series: pd.Series) -> np.ndarray:
        values = series.dropna().to_numpy(dtype=float)
        return np.bincount(np.searchsorted(edges, values, side="left"), minlength=width)

    return count(reference), count(current)


def categorical_counts(reference: pd.Series,
                       current: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The values seen in either sample (missing as a value) and each sample's counts."""
    ref = reference.astype(object).where(reference.notna(), _MISSING).astype(str)
    cur = current.astype(object).where(current.notna(), _MISSING).astype(str)
    values = sorted(set(ref) | set(cur))
    ref_counts = ref.value_counts().reindex(values, fill_value=0).to_numpy()
    cur_counts = cur.value_counts().reindex(values, fill_value=0).to_numpy()
    return values, ref_counts, cur_counts


def psi(reference: pd.Series, current: pd.Series, numeric: bool, bins: int = DEFAULT_BINS,
        epsilon: float = DEFAULT_EPSILON) -> float:
    """The population stability index of ``current`` against ``reference``."""
    if numeric:
        ref_counts, cur_counts = numeric_counts(reference, current, bins)
    else:
        _, ref_counts, cur_counts = categorical_counts(reference, current)
    return _psi_of_counts(ref_counts, cur_counts, epsilon)


def ks(reference: pd.Series, current: pd.Series) -> Test:
    """The two-sample Kolmogorov-Smirnov statistic (the largest gap between the two
    empirical CDFs, 0..1) and its p-value."""
    from scipy.stats import ks_2samp

    result = ks_2samp(reference.dropna().to_numpy(dtype=float),
                      current.dropna().to_numpy(dtype=float))
    return Test(float(result.statistic), float(result.pvalue))


def chi_square(reference: pd.Series, current: pd.Series) -> Test:
    """The chi-square test that both samples come from one categorical distribution."""
    from scipy.stats import chi2_contingency

    _, ref_counts, cur_counts = categorical_counts(reference, current)
    if len(ref_counts) < 2:  # one value in both samples: nothing can have moved
        return Test(0.0, 1.0)
    result = chi2_contingency(np.vstack([ref_counts, cur_counts]))
    return Test(float(result.statistic), float(result.pvalue))
