"""Differentiable ODE solvers: adaptive Dormand-Prince integration with adjoint gradients."""
from functrans.integrate.odeint import odeint

__all__ = ["odeint"]
