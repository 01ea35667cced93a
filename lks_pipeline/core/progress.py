"""Progress of long work, for whoever listens: the command line shows it, a run ignores it.

Steps report each partition or day they finish on the standard logger `lks_pipeline.progress`,
at DEBUG, with the numbers as a `Progress` on the record. Nothing is built unless a listener
lowered that logger's level (the command line does), so runs of the daemon and the UI pay one
level check per partition. The standard logger, not a callback of ours, because it already
crosses from a step to whoever listens in the same process, and Dagster leaves it alone.
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

LOGGER = logging.getLogger("lks_pipeline.progress")
T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One item finished: `done` of `total` (None: not known beforehand), and its rows."""

    what: str
    item: str
    done: int
    total: int | None = None
    rows: int | None = None


def report(what: str, item: str, done: int, total: int | None = None, rows: int | None = None):
    """Tell listeners that `item` of `what` is finished."""
    if LOGGER.isEnabledFor(logging.DEBUG):
        step = Progress(what, item, done, total, rows)
        LOGGER.debug("%s %s (%s/%s)", what, item, done, total or "?", extra={"progress": step})


def each(what: str, items: Iterable[T]) -> Iterator[T]:
    """`items`, reporting each one finished when the loop asks for the next."""
    items = list(items)
    for done, item in enumerate(items, 1):
        yield item
        report(what, str(item), done, len(items))
