"""Hypothesis's entry point for letta-mock (``[project.entry-points.hypothesis]``): registers ``st.from_type``
strategies for our models and the SDK's types.

Hypothesis imports every entry point when it is imported, and does not catch their errors. ``strategies`` is a
common module name: in a project with a ``strategies`` module of its own, ours is shadowed and importing it would
fail — and with it ``import hypothesis`` in that project. So the hook first checks that the ``strategies`` on
``sys.path`` is letta-mock's (the package installed beside ``mockserver``) and does nothing otherwise. This is the
one place ``mockserver`` names ``strategies``, by name and at run time only.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

__all__ = ["setup"]


def setup() -> None:
    try:
        spec = importlib.util.find_spec("strategies")
    except (ImportError, ValueError):  # a shadowing module that breaks on import, or a broken sys.modules entry
        return
    ours = Path(__file__).resolve().parents[1] / "strategies" / "__init__.py"
    if spec is None or spec.origin is None or Path(spec.origin).resolve() != ours:
        return
    importlib.import_module("strategies._register")._hypothesis_setup_hook()
