"""Gridify: move every point of a 2-D layout into its own cell of a rows x cols grid.

Public names: ``gridify`` and its ``METHODS`` (``auto_method`` picks one by size), ``grid_shape``, and the quality measures
``displacement`` and ``neighbourhood_preservation``. The modules, one concept each:

``assign``        ``gridify``: checks, normalisation, the method registry
``shape``         ``grid_shape`` and the argument checks
``geometry``      cell units (the normalised layout), cell centres, the squared cost
``optimal``       the exact assignment (lapjv or scipy)
``greedy``        the deepviz paper's greedy placement
``kdsplit_fast``  recursive proportional halving
``kdsplit``       the default: warped kd-split, then refinement
``warp``          the coarse and multi-level warps that even out a layout's density
``refine``        exact re-assignment inside small windows of cells
``compiled``      refine's windows solved by numba (the ``fast`` extra), a range of them a call
``quality``       displacement and neighbourhood preservation

A layout ``xy`` is (N, 2) float [x, y]; x maps to grid columns and y to rows, row 0 holding
the smallest y. An assignment ``cells`` is (N, 2) int [row, col], one distinct cell per point.
"""
from __future__ import annotations

from deepviz.core.grid.assign import FITTED_KDSPLIT_MAX, KDSPLIT_AUTO_MAX, METHODS, auto_method, gridify
from deepviz.core.grid.quality import displacement, neighbourhood_preservation
from deepviz.core.grid.shape import grid_shape

__all__ = [
    "FITTED_KDSPLIT_MAX",
    "KDSPLIT_AUTO_MAX",
    "METHODS",
    "auto_method",
    "displacement",
    "grid_shape",
    "gridify",
    "neighbourhood_preservation",
]
