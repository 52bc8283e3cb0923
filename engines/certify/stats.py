"""Exact (Clopper–Pearson) binomial confidence bounds.

Clopper, C. J. and Pearson, E. S. (1934), "The use of confidence or fiducial limits illustrated in the case of
the binomial", Biometrika 26(4): 404–413. The one-sided bounds at confidence ``c`` are quantiles of beta
distributions: upper ``Beta(k + 1, n - k).ppf(c)`` (1 when k = n), lower ``Beta(k, n - k + 1).ppf(1 - c)``
(0 when k = 0). A beta quantile is the inverse regularised incomplete beta function, ``betaincinv(a, b, q)``
(``scipy.special``; ``scipy.stats`` would cost the main worker 0.6 s of imports).
"""

from __future__ import annotations

from scipy.special import betaincinv


def _checked(solved: int, tried: int, confidence: float) -> None:
    if tried < 1 or not 0 <= solved <= tried:
        raise ValueError(f"need 0 <= solved <= tried and tried >= 1, got {solved} of {tried}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def upper_bound(solved: int, tried: int, confidence: float = 0.95) -> float:
    """The one-sided upper confidence bound of a success probability after ``solved`` of ``tried``."""
    _checked(solved, tried, confidence)
    if solved == tried:
        return 1.0
    return float(betaincinv(solved + 1, tried - solved, confidence))


def lower_bound(solved: int, tried: int, confidence: float = 0.95) -> float:
    """The one-sided lower confidence bound of a success probability after ``solved`` of ``tried``."""
    _checked(solved, tried, confidence)
    if solved == 0:
        return 0.0
    return float(betaincinv(solved, tried - solved + 1, 1 - confidence))
