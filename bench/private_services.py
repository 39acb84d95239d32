"""Private Redis and PostgreSQL servers for fault runs, on free ports of 127.0.0.1.

The fault benchmarks stop and start the services under the replicas; the ones on
this machine's usual ports are shared with other work, so these runs bring their
own: a ``redis-server`` with an append-only file fsynced at every write (a work
queue's Redis must persist, or a restart loses what was queued), and a throwaway
PostgreSQL cluster (``initdb`` + ``pg_ctl``; fsync off, it holds nothing worth
keeping). ``initdb`` refuses to run as root, so as root the PostgreSQL commands run
as the ``postgres`` OS user, in a temporary folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from loadgen import free_port


def _wait(check: object, what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout:g} s")


class PrivateRedis:
    """A ``redis-server`` of this run's own: append-only, fsync always, in a temp folder."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="discretion-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or start again, on the same port and files); returns once it answers PING."""
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--logfile",
                "redis.log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self._answers, "the private Redis")

    def _answers(self) -> bool:
        import redis

        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the private Redis exited with status {self.proc.returncode}")
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())  # LOADING (replaying the AOF) raises: not yet
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops it: Redis fsyncs the AOF and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)

    def close(self) -> None:
        """Stop it and remove its files."""
        try:
            self.stop()
        finally:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.folder, ignore_errors=True)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port, listening on 127.0.0.1 only."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        on_path = shutil.which("pg_ctl")
        if found:
            self.bin = Path(found[-1]).parent
        elif on_path:
            self.bin = Path(on_path).parent
        else:
            raise RuntimeError("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="discretion-pg-"))
        self.data = self.folder / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            # initdb will not run as root: hand the folder to the postgres user.
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        # Output to a file, not a pipe: the server pg_ctl leaves running would hold a
        # pipe open, and reading it to the end would wait for the server to exit.
        said = self.folder / f"{tool}.out"
        with open(said, "wb") as out:
            done = subprocess.run(
                [*self._as, str(self.bin / tool), *args], stdout=out, stderr=out, check=False
            )
        if done.returncode != 0:
            tail = said.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{tool} failed ({done.returncode}): {tail}")

    def _server(self) -> list[str]:
        """pg_ctl's arguments for starting the server: port, address, log, speed."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        return ["-D", str(self.data), "-l", str(self.folder / "postgres.log"), "-o", options]

    def start(self) -> None:
        """Start the cluster; returns once it accepts connections."""
        self._run("pg_ctl", *self._server(), "-w", "start")
        self.running = True

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: open sessions are ended, as in a real restart."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.running = False

    def restart(self) -> None:
        """``pg_ctl restart -m fast`` (no pause between down and up)."""
        self._run("pg_ctl", *self._server(), "-m", "fast", "-w", "restart")
        self.running = True

    def close(self) -> None:
        """Stop it at once and remove the cluster."""
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
                self.running = False
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
