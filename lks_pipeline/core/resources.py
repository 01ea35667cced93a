"""The resources every room uses: where the data root is, and the warehouse connection.

Every setting has a working default, so the demo needs nothing set; `definitions.py` turns the
`LKS_*` environment variables into `EnvVar`s so the UI shows where a value came from. Resources
of one room (mail, the DKD webservice, the aanleverfouten thresholds) live in that room.
"""

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import psutil
import tenacity
from dagster_duckdb import DuckDBResource
from pydantic import Field

from lks_pipeline.core.files import private_folder


def env_or(name: str, default: str) -> str | dg.EnvVar:
    """EnvVar when set, so the UI shows where a value came from; otherwise the demo default."""
    return dg.EnvVar(name) if name in os.environ else default


def env_int(name: str, default: int) -> int | dg.EnvVar:
    """An integer EnvVar when set, else the default."""
    return dg.EnvVar.int(name) if name in os.environ else default


class LksSettings(dg.ConfigurableResource):
    """The data root of rules 3 and the folders under it."""

    data_dir: str = Field(
        default="data",
        description="LKS_DATA_DIR: root of inbox/, warehouse/, reports/ and outbox/.",
    )

    @property
    def root(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"


LOCK_HOLDER = re.compile(
    r"Could not set lock on file .*?Conflicting lock is held in (.*?\(PID \d+\))"
)


def _this_process() -> str:
    """Who this writer is, as the lock file tells a waiting one: command line and PID."""
    me = psutil.Process()
    argv = me.cmdline() or [me.name()]
    command = " ".join(" ".join([Path(argv[0]).name, *argv[1:4]]).split())  # one line
    return f"{command[:120]} (PID {me.pid})"


def _holder(error: BaseException | None) -> str | None:
    """The process that holds the DuckDB file, when `error` is DuckDB's lock conflict."""
    if not isinstance(error, duckdb.IOException):
        return None
    match = LOCK_HOLDER.search(str(error))
    return match[1] if match else None


# Writers' lock files this process holds (`Warehouse._writer_lock`).
_WRITER_LOCKS: set[str] = set()


class WarehouseBusy(RuntimeError):
    """Another process kept the warehouse file locked for longer than the step would wait."""


class Warehouse(DuckDBResource):
    """DuckDBResource that keeps its files private, waits out a foreign lock, and always closes.

    - The folder is made mode 0700, and the database and its WAL are created with umask 077
      (0600), so neither is readable by other users.
    - DuckDB allows one process on a file. A process that holds the live file (an analyst who
      opened `lks.duckdb` instead of `lks_analyse.duckdb`, a stray CLI) makes the step wait: it
      logs once who holds the file and what to do, tries again with backoff up to
      `wacht_seconden`, and only then fails with that message. Upstream's `get_connection`
      retried silently and then failed with DuckDB's bare error.
    - Upstream closes only when the block succeeds; a failed step would keep the file open in a
      long-lived process (the CLI, a code server).
    - Our own writers also take an exclusive `flock` on `<database>.schrijver` for as long as
      they hold a connection, and wait for it without limit, as they would for the pool's slot.
      The pool alone is not enough: on a SQLite instance two processes (two `process` started
      at once) can both claim its one slot, seen in the two-writers test. The kernel drops the
      lock when its process dies, so a crash leaves nothing to clean up.
    """

    wacht_seconden: float = Field(
        default=600.0,
        description="LKS_WAREHOUSE_WACHT: seconds a step waits for another process to let go "
        "of the warehouse file before it fails.",
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.database != ":memory:":
            private_folder(Path(self.database).resolve().parent)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # umask is per process; the run worker executes one step at a time (in-process executor).
        previous = os.umask(0o077)
        try:
            with self._writer_lock():
                conn = self._connect()
                try:
                    yield conn
                finally:
                    conn.close()
        finally:
            os.umask(previous)

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """Hold the writers' file lock: one of our writers on the warehouse at a time.

        Re-entrant within a process, so a connection opened while another is open (in the
        same step) does not wait for itself. The holder writes who it is into the lock file, so
        a writer that has to wait says at once whom it waits for.
        """
        pad = f"{self.database}.schrijver"
        if self.database == ":memory:" or pad in _WRITER_LOCKS:
            yield
            return
        fd = os.open(pad, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._take(fd)
            os.ftruncate(fd, 0)
            os.pwrite(fd, _this_process().encode(), 0)
            _WRITER_LOCKS.add(pad)
            try:
                yield
            finally:
                _WRITER_LOCKS.discard(pad)
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)

    def _take(self, fd: int) -> None:
        """Take the lock on `fd`; first say whom this waits for, when another writer holds it.

        No limit: the holder is one of our own writing steps, which ends, as a step waiting for
        the pool's slot waits without limit too.
        """
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode(errors="replace") or "onbekend"
            dg.get_dagster_logger().warning(
                f"Een andere schrijver van deze pipeline gebruikt het warehouse: {holder}. "
                "Deze stap wacht tot die klaar is (zonder limiet: het is een eigen stap)."
            )
            fcntl.flock(fd, fcntl.LOCK_EX)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Connect; while another process holds the file, say who once and retry (tenacity).

        Waits 0.5 s, then twice as long each time up to 15 s, and gives up before a wait would
        pass `wacht_seconden`.
        """
        config = {"custom_user_agent": "dagster", **self.connection_config}
        retrying = tenacity.Retrying(
            stop=tenacity.stop_before_delay(self.wacht_seconden),
            wait=tenacity.wait_exponential(multiplier=0.5, max=15.0),
            retry=tenacity.retry_if_exception(lambda e: _holder(e) is not None),
            before_sleep=self._warn,
            reraise=True,
        )
        try:
            return retrying(duckdb.connect, self.database, read_only=False, config=config)
        except duckdb.IOException as exc:
            holder = _holder(exc)
            if holder is None:
                raise
            raise WarehouseBusy(
                f"{self._busy(holder)} Na {self.wacht_seconden:g} s wachten gestopt; "
                "de volgende run probeert het opnieuw."
            ) from None

    def _busy(self, holder: str) -> str:
        return (
            f"Het warehouse {self.database} is in gebruik door een ander proces ({holder}). "
            "Analisten openen lks_analyse.duckdb, niet het live bestand; sluit dat proces."
        )

    def _warn(self, retry_state: tenacity.RetryCallState) -> None:
        """Before the first wait only: who holds the file, and how long this step will wait."""
        if retry_state.attempt_number == 1:
            holder = _holder(retry_state.outcome.exception())
            dg.get_dagster_logger().warning(
                f"{self._busy(holder)} Deze stap wacht en probeert het opnieuw, "
                f"tot {self.wacht_seconden:g} s."
            )
