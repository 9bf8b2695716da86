"""Interpreters, one per transformation, each with an entry point on flat lists of values:
forward mode (``jvp_flat``), linearize (``linearize_flat``), transpose
(``transpose_program``), batching (``vmap_flat``), and replay of a recorded program (jit's
``ReplayPlan``). The public transformations (``functrans.api``) and the higher-order
primitives (``functrans.lax``) call these."""
