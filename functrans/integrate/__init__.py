"""Differentiable ODE solvers: adaptive Dormand-Prince integration with adjoint gradients."""
