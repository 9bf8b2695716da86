"""The op tables of the test suite: one ``OpSpec`` row per primitive and per public
``functrans.numpy`` function, split by topic like the numpy modules, and the checks that run a
row (``check_spec``)."""
from .elementwise import FNP_BINARY, FNP_COMPARISONS, FNP_UNARY
from .fft import FFT_SPECS
from .indexing import INDEX_TRICK_SPECS
from .linalg import LINALG_SPECS
from .opspec import Case, OpSpec, assert_same, check_spec, draw_case, run_spec
from .strategies import Domain
from .tables import ALL_SPECS, FNP_SPECS, PRIMITIVE_SPECS
