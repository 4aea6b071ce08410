"""Draw one value from a strategy, deterministically by seed, outside any test (for the server's ``arbitrary``
scenario).

Hypothesis has no public API for this: ``.example()`` is unseeded and meant for the REPL (it warns inside tests),
and ``find``/``@given`` run the whole engine, whose first example is the *simplest* one, not a seeded draw. The
engine itself draws through ``ConjectureData`` fed by a ``Random``; ``example_for_seed`` does the same, and is the
only place in letta-mock that touches Hypothesis internals.

Checked against hypothesis 6.170.9 (``tests/test_strategies.py`` pins same-seed-same-value, also across
processes). A value is reproducible for a given Hypothesis version and letta-mock version, not across upgrades.
"""

from __future__ import annotations

from random import Random
from typing import Any, TypeVar

from hypothesis import strategies as st
from hypothesis.control import BuildContext
from hypothesis.errors import StopTest, Unsatisfiable
from hypothesis.internal.conjecture.data import ConjectureData
from hypothesis.internal.conjecture.providers import HypothesisProvider

__all__ = ["example_for_seed"]

T = TypeVar("T")


class _SeededProvider(HypothesisProvider):
    """Hypothesis's own provider, minus its habit of substituting "interesting constants".

    Those include constants harvested from whatever local modules the process has imported, so the same seed
    would give different values in the server and in a test. Without them, the draw depends on the seed alone.
    """

    def _maybe_draw_constant(self, *args: Any, **kwargs: Any) -> None:
        return None


def example_for_seed(strategy: st.SearchStrategy[T], seed: int, *, max_attempts: int = 100) -> T:
    """The value ``strategy`` draws for ``seed``: same seed, same value (for a given Hypothesis version).

    A draw that is rejected (a filter failing, or a value too large for Hypothesis's buffer) is retried with
    the next attempt's random stream; after ``max_attempts`` rejections ``Unsatisfiable`` is raised.
    """
    for attempt in range(max_attempts):
        # A str seed is hashed with SHA-512 by `random`, so it does not depend on PYTHONHASHSEED.
        data = ConjectureData(random=Random(f"letta-mock:{seed}:{attempt}"), provider=_SeededProvider)
        try:
            with BuildContext(data, is_final=False, wrapped_test=example_for_seed):
                return data.draw(strategy)
        except StopTest:
            continue
    raise Unsatisfiable(f"{strategy!r} rejected {max_attempts} draws for seed {seed}")
