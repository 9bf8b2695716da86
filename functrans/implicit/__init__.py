"""Implicit differentiation: fixed points, roots and matrix-free linear solves whose derivatives come from the implicit function theorem."""
