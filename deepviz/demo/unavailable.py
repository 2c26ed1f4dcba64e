"""The one error of the demo sets, in its own module so each source can raise it without a circular import."""
from __future__ import annotations

from deepviz.errors import DeepvizError


class DemoUnavailable(DeepvizError, RuntimeError):
    """The demo images could not be fetched here; the message says how to proceed."""
