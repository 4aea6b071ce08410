"""Starting and stopping a real Letta 0.16.8 server, all on 127.0.0.1, all state in one cache directory:

* PostgreSQL with pgvector (``pg/data``; as the ``postgres`` user when run as root, which Postgres requires),
  database ``letta`` owned by role ``letta``, ``alembic upgrade head`` with the sdist's migrations;
* Redis without persistence (background streams and ``/v1/runs/{id}/stream`` need it);
* our LLM stub (``llm_stub.py``);
* ``letta server`` with a clean environment (``HOME`` in the cache, the stub as OpenAI, a pooled database
  connection: with Letta's default of a new connection per operation some connections stalled for asyncpg's 60 s
  timeout on a loaded machine).

Ports are chosen free the first time and kept in ``run/ports.json`` (``$REAL_LETTA_PORT`` picks Letta's); a port
another program took is an error naming it. What runs is known by PID files checked against each process's command
line, so ``down`` stops exactly what ``up`` started and nothing else. ``up`` is idempotent: what runs stays.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from .install import LETTA_VERSION, Install, RealLettaError, cache_dir, install, log, run

__all__ = ["Server", "down", "healthy", "up"]

HOST = "127.0.0.1"
STUB = Path(__file__).with_name("llm_stub.py")
HEALTH_TIMEOUT_S = 300.0
SERVICES = ("postgres", "redis", "stub", "letta")
CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}


@dataclass(frozen=True)
class Server:
    url: str
    started: bool  # whether this call started Letta (False: it was running)
    logs: Path


def healthy(url: str, timeout: float = 3.0) -> bool:
    try:
        return httpx.get(url.rstrip("/") + "/v1/health/", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


# -- ports, PIDs, processes -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def _taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _ports(cache: Path) -> dict[str, int]:
    path = cache / "run" / "ports.json"
    ports: dict[str, int] = json.loads(path.read_text()) if path.is_file() else {}
    given = os.environ.get("REAL_LETTA_PORT")
    if given:
        ports["letta"] = int(given)
    for service in SERVICES:
        ports.setdefault(service, _free_port())
    path.write_text(json.dumps(ports))
    return ports


def _alive(cache: Path, service: str, marker: str) -> bool:
    """The PID in run/SERVICE.pid runs and its command line contains ``marker``."""
    try:
        pid = int((cache / "run" / f"{service}.pid").read_text())
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return False


def _start(cache: Path, service: str, command: list[str], *, env: dict[str, str], cwd: Path | None = None) -> None:
    with open(cache / "logs" / f"{service}.log", "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    (cache / "run" / f"{service}.pid").write_text(str(process.pid))


def _wait_for_port(cache: Path, service: str, port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _taken(port):
            return
        time.sleep(0.2)
    raise RealLettaError(f"{service} did not listen on {HOST}:{port} within {seconds:.0f} s:\n{_tail(cache, service)}")


def _tail(cache: Path, service: str, lines: int = 40) -> str:
    path = cache / "logs" / f"{service}.log"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else "(no log)"


def _free_or_fail(port: int, service: str) -> None:
    if _taken(port):
        raise RealLettaError(f"{HOST}:{port} (for {service}) is taken by another program: remove run/ports.json")


@contextmanager
def _locked(cache: Path) -> Iterator[None]:
    with open(cache / "up.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one up/down at a time per cache (a CI run and a by-hand run may overlap)
        yield


# -- the services -----------------------------------------------------------------------------------------------------


def _as_postgres_user(command: list[str]) -> list[str]:
    """Postgres refuses to run as root: as root, its binaries run as the `postgres` user."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres")
    return ["runuser", "-u", "postgres", "--", *command]


def _chown_to_postgres(*paths: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in paths:
            os.chown(path, user.pw_uid, user.pw_gid)


def _postgres(found: Install, port: int) -> str:
    """Postgres running with the database ``letta`` migrated; its URI."""
    root = found.cache / "pg"
    data, sockets = root / "data", root / "sock"
    pg_ctl = [str(found.pg_bin / "pg_ctl"), "-D", str(data)]
    if not (data / "PG_VERSION").is_file():
        log(f"initdb {data}")
        data.mkdir(parents=True, exist_ok=True)
        sockets.mkdir(exist_ok=True)
        _chown_to_postgres(root, data, sockets)
        data.chmod(0o700)
        run(*_as_postgres_user([str(found.pg_bin / "initdb"), "-D", str(data), "--auth=trust", "--encoding=UTF8",
                                "--locale=C", "-U", "postgres"]))  # fmt: skip
    if subprocess.run(_as_postgres_user([*pg_ctl, "status"]), capture_output=True, check=False).returncode != 0:
        _free_or_fail(port, "postgres")
        log(f"starting Postgres on {HOST}:{port}")
        logfile = found.cache / "logs" / "postgres.log"
        logfile.touch()
        _chown_to_postgres(logfile)
        options = (f"-c listen_addresses={HOST} -p {port} -k {sockets} -c max_connections=200 -c fsync=off "
                   "-c synchronous_commit=off")  # fmt: skip
        try:
            run(*_as_postgres_user([*pg_ctl, "-l", str(logfile), "-w", "-t", "60", "-o", options, "start"]))
        except RealLettaError as error:
            raise RealLettaError(f"{error}\n{_tail(found.cache, 'postgres')}") from None
    (found.cache / "run" / "postgres.pid").write_text((data / "postmaster.pid").read_text().split()[0])
    psql = [found.pg_bin / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", str(port), "-U", "postgres"]
    quiet = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    exists = "select 1 from pg_database where datname='letta'"
    if run(*psql, "-d", "postgres", "-tAc", exists, env=quiet).strip() != "1":
        run(*psql, "-d", "postgres", "-c", "create role letta login", "-c", "create database letta owner letta",
            env=quiet)  # fmt: skip
    run(*psql, "-d", "letta", "-c", "create extension if not exists vector", env=quiet)
    return f"postgresql://letta@{HOST}:{port}/letta"


def _letta_env(found: Install, ports: dict[str, int], database: str) -> dict[str, str]:
    return {
        **CLEAN_ENV,
        "HOME": str(found.cache / "home"),
        "LETTA_PG_URI": f"{database}?ssl=disable",
        "LETTA_REDIS_HOST": HOST,
        "LETTA_REDIS_PORT": str(ports["redis"]),
        "OPENAI_API_KEY": "sk-stub",
        "OPENAI_BASE_URL": f"http://{HOST}:{ports['stub']}/v1",
        "NLTK_DATA": str(found.cache / "home" / "nltk_data"),
        "LETTA_DISABLE_SQLALCHEMY_POOLING": "false",
    }


def _migrate(found: Install, env: dict[str, str], database: str) -> None:
    marker = found.cache / "pg" / ".migrated"
    sdist = found.sdist.name
    if marker.is_file() and marker.read_text() == sdist:
        return
    log("alembic upgrade head (the migrations of the letta sdist)")
    alembic = found.venv / "bin" / "alembic"
    try:  # alembic's driver (pg8000) refuses sslmode=: the URI without its query
        run(alembic, "upgrade", "head", cwd=found.src, env={**env, "LETTA_PG_URI": database})
    except RealLettaError as error:
        raise RealLettaError(f"alembic upgrade head failed: {error}") from None
    marker.write_text(sdist)


def up(cache: Path | None = None, *, health_timeout: float = HEALTH_TIMEOUT_S) -> Server:
    """A healthy real Letta from ``cache`` (installed and started as needed); see the module docstring."""
    found = install(cache)
    cache = found.cache
    with _locked(cache):
        ports = _ports(cache)
        database = _postgres(found, ports["postgres"])
        env = _letta_env(found, ports, database)
        _migrate(found, env, database)
        redis = f"{HOST}:{ports['redis']}"
        if not _alive(cache, "redis", f"redis-server {redis}"):
            _free_or_fail(ports["redis"], "redis")
            log(f"starting Redis on {redis}")
            (cache / "redis").mkdir(exist_ok=True)
            _start(cache, "redis", [found.redis_server, "--bind", HOST, "--port", str(ports["redis"]), "--save", "",
                                    "--appendonly", "no", "--dir", str(cache / "redis")], env=CLEAN_ENV)  # fmt: skip
            _wait_for_port(cache, "redis", ports["redis"], 20)
        stub = [str(found.python), str(STUB), str(ports["stub"]), str(cache / "logs" / "stub-requests.jsonl")]
        if not _alive(cache, "stub", " ".join(stub[1:3])):
            _free_or_fail(ports["stub"], "the LLM stub")
            log(f"starting the LLM stub on {HOST}:{ports['stub']}")
            _start(cache, "stub", stub, env=CLEAN_ENV)
            _wait_for_port(cache, "stub", ports["stub"], 30)
        url = f"http://{HOST}:{ports['letta']}"
        command = [str(found.venv / "bin" / "letta"), "server", "--host", HOST, "--port", str(ports["letta"])]
        started = not _alive(cache, "letta", " ".join(command[1:]))
        if started:
            _free_or_fail(ports["letta"], "letta")
            log(f"starting letta {LETTA_VERSION} on {url}")
            _start(cache, "letta", command, env=env, cwd=cache / "home")
        deadline = time.monotonic() + health_timeout
        while not healthy(url):
            if not _alive(cache, "letta", " ".join(command[1:])):
                raise RealLettaError(f"letta server exited:\n{_tail(cache, 'letta')}")
            if time.monotonic() > deadline:
                why = f"no 200 from {url}/v1/health/ in {health_timeout:.0f} s"
                raise RealLettaError(f"{why}:\n{_tail(cache, 'letta')}")
            time.sleep(0.5)
    return Server(url=url, started=started, logs=cache / "logs")


def down(cache: Path | None = None) -> list[str]:
    """Stop what ``up`` started from ``cache`` (by PID file, each checked against its command line); what was done."""
    cache = cache or cache_dir()
    done: list[str] = []
    if not (cache / "run").is_dir():
        return done
    with _locked(cache):
        for service, marker in (("letta", "server --host"), ("stub", "llm_stub.py"), ("redis", "redis-server")):
            if _alive(cache, service, marker):
                pid = int((cache / "run" / f"{service}.pid").read_text())
                os.killpg(pid, 15)  # its own session: letta's workers go with it
                for _ in range(100):
                    if not _alive(cache, service, marker):
                        break
                    time.sleep(0.1)
                else:
                    os.killpg(pid, 9)
                done.append(f"{service} ({pid}) stopped")
            (cache / "run" / f"{service}.pid").unlink(missing_ok=True)
        pg_bin = sorted(cache.glob("pg-venv/lib/python*/site-packages/pgserver/pginstall/bin"))
        data = cache / "pg" / "data"
        if pg_bin and (data / "postmaster.pid").is_file():
            pg_ctl = [str(pg_bin[0] / "pg_ctl"), "-D", str(data)]
            if subprocess.run(_as_postgres_user([*pg_ctl, "status"]), capture_output=True, check=False).returncode == 0:
                run(*_as_postgres_user([*pg_ctl, "-m", "fast", "-w", "-t", "60", "stop"]))
                done.append("postgres stopped")
        (cache / "run" / "postgres.pid").unlink(missing_ok=True)
    return done
