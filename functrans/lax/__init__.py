"""Higher-order primitives whose rules run the interpreters on a body: custom derivative
rules (custom_jvp, custom_vjp) and rematerialisation (checkpoint)."""
