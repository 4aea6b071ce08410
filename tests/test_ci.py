"""CI runs what the README says: .ci/fresh-clone reads the README's test command, word for word, and .ci/run runs
it in a fresh clone before the real_letta tier (the run itself is CI's: a whole second test run, too long for a
test)."""

from __future__ import annotations

import os
import re
import subprocess

from _local import ROOT


def test_the_fresh_clone_runs_the_readme_s_test_command_word_for_word() -> None:
    shown = re.findall(r"^    (python3 -m venv .*pytest)$", (ROOT / "README.md").read_text(), flags=re.MULTILINE)
    assert shown == ["python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/python -m pytest"]
    done = subprocess.run([str(ROOT / ".ci" / "fresh-clone")], env={**os.environ, "PRINT": "1"}, capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == shown[0]
