"""Implicit differentiation: fixed points, roots and matrix-free linear solves, whose
derivatives come from the implicit function theorem rather than from their iterations."""
from functrans.implicit.krylov import cg, gmres
from functrans.implicit.nonlinear import NotConvergedError, fixed_point, root

__all__ = ["NotConvergedError", "cg", "fixed_point", "gmres", "root"]
