"""Interval estimates of quality metrics: the paired bootstrap, analytic intervals, and which one a figure gets."""
