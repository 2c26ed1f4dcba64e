"""Progress bars for long steps (tqdm on stderr), silent when disabled or in tests."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Progress:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def note(self, message: str) -> None:
        """One line on stderr for a step with no natural progress count (t-SNE, the grid)."""
        if self.enabled:
            import sys

            print(message, file=sys.stderr, flush=True)

    @contextmanager
    def bar(self, total: int, desc: str, unit: str) -> Iterator[Callable[[int], None]]:
        """Yield ``tick(k)`` that advances a bar of ``total`` by ``k``."""
        if not self.enabled or total == 0:
            yield lambda k: None
            return
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True) as t:
            yield t.update
