"""Higher-order primitives whose rules run the interpreters on a body: custom derivative
rules (custom_jvp, custom_vjp), rematerialisation (checkpoint) and staged control flow
(cond, switch, while_loop, scan), with JAX's lax names."""
from functrans.lax.associative_scan import associative_scan
from functrans.lax.cond import cond, switch
from functrans.lax.custom_root import custom_linear_solve, custom_root
from functrans.lax.loops import fori_loop, map
from functrans.lax.scan import scan
from functrans.lax.while_loop import while_loop

__all__ = [
    "associative_scan", "cond", "custom_linear_solve", "custom_root", "fori_loop", "map", "scan",
    "switch", "while_loop",
]
