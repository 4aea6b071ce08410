"""The examples' own test suite (examples/python), run as its authors run it: ``python -m pytest`` in its folder,
with the plugin loaded from the installed package and nothing from our conftest."""

from __future__ import annotations

import subprocess
import sys

from _local import ROOT

EXAMPLE = ROOT / "examples" / "python"


def test_the_example_clients_suite_passes_with_the_plugin() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    source = (EXAMPLE / "test_support_bot.py").read_text()
    tests = sum(1 for line in source.splitlines() if line.startswith("def test_"))
    assert f"{tests} passed" in result.stdout.splitlines()[-1], result.stdout
