"""Where Letta's tests run: a temporary directory holding the ``tests/`` tree of the Letta sdist (extracted at run
time, never copied into this repository) and our plugin, and the harness venv that runs them.

The venv (``itests-venv`` beside the real-letta venv, in the cache of tests/real_letta) is ours: pytest and its
plugins at the versions Letta's own ``uv.lock`` pins, from PyPI, plus a ``.pth`` line that puts the real-letta venv's
site-packages (``letta``, ``letta-client`` and their dependencies, installed by ``python -m tests.real_letta
install``) behind its own. The real-letta venv is never changed. A marker file keyed on the versions makes a second
call instant.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LETTA_VERSION", "Workspace", "ensure_venv", "open_workspace"]

LETTA_VERSION = "0.16.8"
PLUGIN_MODULE = "letta_itests_plugin"
# Packages the Letta tests need that the real-letta venv lacks, at the version Letta's uv.lock pins (pytest-timeout
# is ours: it bounds each test). letta-client too: the tests were written against the lock's 1.7.12, whose
# `tools.upsert_from_function` helper later releases (the real-letta venv's 1.12.1) dropped; it shadows 1.12.1 here,
# without its dependencies (the real-letta venv's satisfy them).
RUNNER_PACKAGES: dict[str, str | None] = {"pytest": None, "pytest-asyncio": None, "pytest-timeout": "2.4.0"}
NO_DEPS_PACKAGES: dict[str, str | None] = {"letta-client": None}
VENV_TIMEOUT_S = 300


@dataclass(frozen=True)
class Workspace:
    root: Path  # the temporary directory; remove it with close()
    sdist_root: Path  # letta-<version>/ inside it, the tests' working directory (they open tests/model_settings/...)
    plugin_dir: Path  # on PYTHONPATH: our plugin as a top-level module

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def open_workspace(sdist: Path, parent: str | None = None) -> Workspace:
    """Extract the sdist's ``tests/`` tree into a new temporary directory, with our plugin beside it."""
    root = Path(tempfile.mkdtemp(prefix="letta-itests-", dir=parent))
    prefix = f"letta-{LETTA_VERSION}/tests/"
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix) and (m.isfile() or m.isdir())]
        if not members:
            raise ValueError(f"{sdist} has no {prefix} directory")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4: refuse links and paths out of `root`
            archive.extractall(root, members=members, filter="data")
        else:
            archive.extractall(root, members=members)
    plugin_dir = root / "plugin"
    plugin_dir.mkdir()
    shutil.copyfile(Path(__file__).with_name("plugin.py"), plugin_dir / f"{PLUGIN_MODULE}.py")
    return Workspace(root=root, sdist_root=root / f"letta-{LETTA_VERSION}", plugin_dir=plugin_dir)


def locked_versions(sdist: Path) -> dict[str, str]:
    """The versions Letta's ``uv.lock`` pins for the runner packages."""
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"letta-{LETTA_VERSION}/uv.lock")
        lock = member.read().decode() if member else ""
    found = {}
    for name in [*RUNNER_PACKAGES, *NO_DEPS_PACKAGES]:
        match = re.search(rf'^name = "{re.escape(name)}"\nversion = "([^"]+)"', lock, re.MULTILINE)
        if match:
            found[name] = match.group(1)
    return found


def _requirements(sdist: Path, packages: dict[str, str | None]) -> list[str]:
    locked = locked_versions(sdist)
    out = []
    for name, ours in packages.items():
        version = locked.get(name) or ours
        out.append(f"{name}=={version}" if version else name)
    return out


def ensure_venv(sdist: Path, real_venv: Path, venv: Path | None = None) -> Path:
    """The harness venv's python, created (or reused) as the module docstring says."""
    venv = venv or real_venv.parent / "itests-venv"
    real_python = real_venv / "bin" / "python"
    if not real_python.exists():
        raise FileNotFoundError(f"the real-letta venv is not at {real_venv}: run `python -m tests.real_letta install`")
    requirements = _requirements(sdist, RUNNER_PACKAGES)
    no_deps = _requirements(sdist, NO_DEPS_PACKAGES)
    key = hashlib.sha256(" ".join([str(real_venv), *requirements, *no_deps]).encode()).hexdigest()[:12]
    python = venv / "bin" / "python"
    marker = venv / f".ok-{key}"
    if marker.exists() and python.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one creator at a time (a CI run and a by-hand run may overlap)
        if not (marker.exists() and python.exists()):
            _create_venv(venv, real_python, requirements, no_deps)
            marker.touch()
    return python


def _create_venv(venv: Path, real_python: Path, requirements: list[str], no_deps: list[str]) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    python = venv / "bin" / "python"

    def run(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, timeout=VENV_TIMEOUT_S, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-1500:]}")
        return done.stdout.strip()

    # A venv made by the real venv's python is based on the same interpreter (compiled extensions match).
    run(str(real_python), "-m", "venv", str(venv))
    pip = (str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    run(*pip, *requirements)
    run(*pip, "--no-deps", *no_deps)
    real_site = run(str(real_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    own_site = run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # `import site; site.addsitedir(...)` (not a bare path) so the real venv's own .pth files are processed too.
    (Path(own_site) / "zz_real_letta.pth").write_text(f"import site; site.addsitedir({real_site!r})\n")
    run(str(python), "-c", "import letta, letta_client, pytest, pytest_asyncio, pytest_timeout")
