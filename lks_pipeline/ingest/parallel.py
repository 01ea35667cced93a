"""Reading a run's files on worker processes while the run writes: both cores at work.

Parsing is Python and lxml, which hold the GIL (a thread gives nothing), and a national run
reads 340 DKD documents and 342 verwijsindexen. So the files a run will read are handed to a pool
of worker processes in the order the run needs them, a few ahead; the run's own process writes
each partition as before, one transaction per partition, taking each file's result when it gets
there. What is read, how, and what is written do not change: the worker runs the same reader,
and a file the run asks for that was not read ahead (or that changed since: the key holds its
inode, size and times) is read in the run's process, as before.

Decisions:
- A pool only when it pays: at least two files and `MIN_BYTES` to read. Starting a worker costs
  about a second (a fresh interpreter imports the readers: `spawn`, because forking a process
  that runs threads, as Dagster's does, can deadlock the child).
- As many workers as the process may use cores, at most `MAX_WORKERS`. Files are handed out
  ahead of the run up to `AHEAD_BYTES` of input (and at least one more than there are workers):
  one worker may spend seconds on a 200 MB document while the others get on with the small
  ones, and what waits in memory stays a few files' rows, not the run's.
- A worker that dies (killed, out of memory) does not fail the run: its files are read in the
  run's process.
"""

import atexit
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache

from lks_pipeline.ingest.inbox import Levering
from lks_pipeline.ingest.leveringen import Reader
from lks_pipeline.ingest.result import ReadResult

MIN_BYTES = 16 * 2**20
MAX_WORKERS = 4
AHEAD_BYTES = 256 * 2**20


def _key(levering: Levering) -> tuple:
    return (levering.path, levering.inode, levering.size, levering.mtime_ns, levering.ctime_ns)


def _workers() -> int:
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


@cache
def worker_pool() -> ProcessPoolExecutor:
    """One pool per process, kept between runs (`process` ingests several feeds in a row)."""
    pool = ProcessPoolExecutor(_workers(), mp_context=multiprocessing.get_context("spawn"))
    atexit.register(pool.shutdown, cancel_futures=True)
    return pool


class ReadAhead:
    """A reader that serves files read ahead on the pool, and reads any other file itself.

    `order` is the files the run will most likely ask for, in the order it asks.
    """

    def __init__(self, reader: Reader, order: Iterable[Levering], *, force: bool = False):
        self.reader = reader
        self.todo = list(order)
        self.pending: dict[tuple, Future] = {}
        self.pending_bytes: dict[tuple, int] = {}
        self.pool = None
        if force or (len(self.todo) > 1 and sum(lv.size for lv in self.todo) >= MIN_BYTES):
            self.pool = worker_pool()
            self._fill()

    def __call__(self, levering: Levering) -> ReadResult:
        future = self.pending.pop(_key(levering), None)
        self.pending_bytes.pop(_key(levering), None)
        self._fill()
        if future is None:
            return self.reader(levering)
        try:
            return future.result()
        except BrokenProcessPool:
            worker_pool.cache_clear()
            self.pool = None
            return self.reader(levering)

    def _fill(self) -> None:
        """Hand out files while the window allows; a broken pool reads nothing ahead."""
        while self.pool is not None and self.todo and self._room():
            levering = self.todo.pop(0)
            try:
                future = self.pool.submit(self.reader, levering)
            except BrokenProcessPool:
                worker_pool.cache_clear()
                self.pool = None
                return
            self.pending[_key(levering)] = future
            self.pending_bytes[_key(levering)] = levering.size

    def _room(self) -> bool:
        return (
            len(self.pending) <= _workers()
            or sum(self.pending_bytes.values()) + self.todo[0].size <= AHEAD_BYTES
        )

    def close(self) -> None:
        """Drop what was read ahead and not asked for (a file `read_new` skipped after all)."""
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()
        self.pending_bytes.clear()
        self.todo.clear()
