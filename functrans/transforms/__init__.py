"""Interpreters, one per transformation. Public names are exported by ``functrans``."""
