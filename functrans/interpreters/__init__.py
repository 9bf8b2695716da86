"""Interpreters, one per transformation: forward mode (jvp), linearize, transpose, batching,
and replay of a staged program (jit). Public names are exported by ``functrans``."""
