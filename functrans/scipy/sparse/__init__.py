"""SciPy's ``scipy.sparse`` names: the matrix-free solvers of ``functrans.scipy.sparse.linalg``."""
from functrans.scipy.sparse import linalg

__all__ = ["linalg"]
