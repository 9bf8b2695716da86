"""SciPy's names, differentiable: ``functrans.scipy.special``, ``.linalg``, ``.sparse.linalg``,
``.stats``, ``.signal``, ``.integrate`` and ``.optimize``.

SciPy itself is optional: the special functions compute their values with it when it is
installed (and say to ``pip install scipy`` when it is not); everything else is built on
functrans.numpy.
"""
from functrans.scipy import integrate, linalg, optimize, signal, sparse, special, stats

__all__ = ["integrate", "linalg", "optimize", "signal", "sparse", "special", "stats"]
