"""Reading a run's DKD files on worker processes while the run writes: both cores at work.

Parsing is Python and lxml, which hold the GIL (a thread gives nothing), and a national run
reads 340 DKD documents. So the files a run will read (of a feed with `FeedSpec.read_ahead`) are
handed to a pool of worker processes in the order the run needs them, a few ahead; the run's own
process writes each partition as before, one transaction per partition, taking each file's
result when it gets there. What is read, how, and what is written do not change: the worker runs
the same reader, and a file the run asks for that was not read ahead (or that changed since: the
key holds its inode, size and times) is read in the run's process, as before.

Decisions:
- A pool only when it pays: at least two files and `MIN_BYTES` to read. Each `ReadAhead` has
  its own and ends it (`close`), so no worker holds memory while later steps run. Starting a
  worker costs about a second (a fresh interpreter imports the readers: `spawn`, because forking
  a process that runs threads, as Dagster's does, can deadlock the child).
- As many workers as the process may use cores, at most `MAX_WORKERS`. Files are handed out
  ahead of the run up to `AHEAD_BYTES` of input (and at least one more than there are workers):
  one worker may spend seconds on a 200 MB document while the others get on with the small
  ones, and what waits in memory stays a few files' rows, not the run's.
- A worker gives freed memory back after each file (`_read_and_release`: Arrow's pool and
  glibc's `malloc_trim`, a few milliseconds): both keep it for reuse, so a worker that parsed the
  200 MB document would hold ~400 MB for the rest of the step, and the whole process tree counts
  against the memory budget. Without a `gc.collect()`: with many small files it cost more worker
  time than it freed.
- A worker that dies (killed, out of memory) does not fail the run: its files are read in the
  run's process.
"""

import ctypes
import ctypes.util
import multiprocessing
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow as pa

from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.ingest.leveringen import Reader
from lks_pipeline.ingest.result import ReadResult

MIN_BYTES = 16 * 2**20
MAX_WORKERS = 4
AHEAD_BYTES = 256 * 2**20
SPOOL_PREFIX = ".ingest-"


class _Key(NamedTuple):
    """A file as the scan saw it: a file changed since is not served from what was read ahead."""

    path: Path
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


def _key(levering: Levering) -> _Key:
    return _Key(levering.path, levering.inode, levering.size, levering.mtime_ns, levering.ctime_ns)


def _read_and_release(reader: Reader, levering: Levering, spool: Path) -> ReadResult:
    """Run `reader` in a worker, spool its Arrow tables, then hand freed memory back."""
    try:
        return _spooled(reader(levering), spool)
    finally:
        _release_memory()


@dataclass(frozen=True)
class _Spooled:
    """A table a worker wrote to an Arrow IPC file instead of sending it through the pipe."""

    path: Path


def _spooled(result: ReadResult, spool: Path) -> ReadResult:
    """The result with its Arrow-backed tables in files under `spool` (DKD documents).

    Sending a frame through the pool's pipe pickles it: a second copy of every row in the worker
    and a third in the run's process, ~150 MB each for the largest document. A file is written
    from the Arrow buffers as they are and mapped by the run's process without a copy. Files are
    0600 in the warehouse's 0700 folder: they hold BSNs.
    """
    frames = result.tables.values()
    if not frames or not all(
        isinstance(dtype, pd.ArrowDtype) for frame in frames for dtype in frame.dtypes
    ):
        return result
    for name, frame in list(result.tables.items()):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        fd, path = tempfile.mkstemp(prefix=SPOOL_PREFIX, suffix=".arrow", dir=spool)
        with os.fdopen(fd, "wb") as f, pa.ipc.new_file(f, table.schema) as writer:
            writer.write_table(table)
        result.tables[name] = _Spooled(Path(path))
    return result


def _unspooled(result: ReadResult) -> ReadResult:
    """The result with its spooled tables mapped back as Arrow-backed frames; files removed."""
    for name, value in list(result.tables.items()):
        if isinstance(value, _Spooled):
            table = pa.ipc.open_file(pa.memory_map(str(value.path))).read_all()
            value.path.unlink()  # the mapping stays valid until the frame is dropped
            result.tables[name] = table.to_pandas(types_mapper=pd.ArrowDtype)
    return result


def remove_spool_leftovers(spool: Path) -> None:
    """Spool files a killed run left behind (one writer at a time: none is in use)."""
    for path in spool.glob(f"{SPOOL_PREFIX}*.arrow"):
        path.unlink(missing_ok=True)


def _release_memory() -> None:
    pa.default_memory_pool().release_unused()
    if _libc() is not None:
        _libc().malloc_trim(0)


@cache
def _libc():
    """glibc, whose `malloc_trim` returns freed heap pages; None elsewhere (musl, macOS)."""
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    return library if library is not None and hasattr(library, "malloc_trim") else None


def _workers() -> int:
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def worker_pool() -> ProcessPoolExecutor:
    """A new pool of spawned workers, one per core the process may use."""
    return ProcessPoolExecutor(_workers(), mp_context=multiprocessing.get_context("spawn"))


class ReadAhead:
    """A reader that serves files read ahead on the pool, and reads any other file itself.

    `order` is the files the run will most likely ask for, in the order it asks.
    """

    def __init__(self, reader: Reader, order: Iterable[Levering], spool: Path):
        self.reader, self.spool = reader, spool
        self.todo = list(order)
        self.pending: dict[_Key, Future] = {}
        self.pool: ProcessPoolExecutor | None = None
        if len(self.todo) > 1 and sum(lv.size for lv in self.todo) >= MIN_BYTES:
            remove_spool_leftovers(spool)
            self.pool = worker_pool()
            self._fill()

    def __call__(self, levering: Levering) -> ReadResult:
        future = self.pending.pop(_key(levering), None)
        self._fill()
        if future is None:
            return self.reader(levering)
        try:
            return _unspooled(future.result())
        except BrokenProcessPool:
            self._end_pool()
            return self.reader(levering)

    def _fill(self) -> None:
        """Hand out files while the window allows; a broken pool reads nothing ahead."""
        while self.pool is not None and self.todo and self._room():
            levering = self.todo.pop(0)
            try:
                future = self.pool.submit(_read_and_release, self.reader, levering, self.spool)
            except BrokenProcessPool:
                self._end_pool()
                return
            self.pending[_key(levering)] = future

    def _room(self) -> bool:
        return (
            len(self.pending) <= _workers()
            or sum(key.size for key in self.pending) + self.todo[0].size <= AHEAD_BYTES
        )

    def close(self) -> None:
        """Drop what was read ahead and not asked for (a file `read_new` skipped after all)."""
        for future in self.pending.values():
            if not future.cancel() and future.exception() is None:
                _unspooled(future.result())  # read, never asked for: remove its files
        self.pending.clear()
        self.todo.clear()
        self._end_pool()

    def _end_pool(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
