"""A Griffe extension for the API reference: our docstrings head their doctests "Example:"
(Google style's singular), which Griffe would render as prose; rename the heading to
"Examples:" so that the doctests render as code blocks."""
from __future__ import annotations

import re
from typing import Any

import griffe

_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExamplesHeading(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _HEADING.sub(r"\1Examples:", obj.docstring.value)
