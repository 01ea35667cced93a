"""What a command shows while it works: progress, warnings and errors, all on standard error.

Standard output carries only a command's result (the summary, or the `--json` object), so a
script reads it undisturbed while the progress goes elsewhere.

- On a terminal: a live display (rich) per run: what it is doing now, the partitions or days
  done of all, the rows read so far, and the elapsed time; finished runs stay as one line.
- Not on a terminal (cron, CI, a pipe): plain lines, each with a timestamp: a run's start, a
  progress line at most every `PLAIN_EVERY` seconds, and its end.
- `--quiet`: no progress, only warnings and errors. `--verbose`: a line for every partition and
  day, and Dagster's own INFO lines of each run.

The numbers come from `core/progress.py`: the steps report each partition and day they finish.
"""

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lks_pipeline.core import progress

PLAIN_EVERY = 5.0  # seconds between two progress lines of one run, when not on a terminal


class Terminal:
    """Standard error of one command, on a terminal or not, quiet or verbose."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False, stream=None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.verbose = verbose and not quiet
        live = self.stream.isatty() and not quiet
        self.console = Console(file=self.stream, highlight=False) if live else None

    def info(self, text: str) -> None:
        """A line about the work (not shown with --quiet)."""
        if not self.quiet:
            self._line(text)

    def warn(self, text: str) -> None:
        """A warning or error: always shown."""
        self._line(text)

    def _line(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text, markup=False)
        else:
            print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}", file=self.stream, flush=True)

    @contextmanager
    def work(self, label: str) -> Iterator[None]:
        """Show the progress of the work in the block (one run, or `generate`) under `label`."""
        if self.quiet:
            yield
            return
        if self.console is None:
            self.info(f"{label}: started")
        show = self._live(label) if self.console is not None else self._plain(label)
        with show as on_progress, _listening(on_progress):
            yield

    @contextmanager
    def _live(self, label: str):
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.console, transient=True) as bar:
            task = bar.add_task(label, total=None, detail="")
            rows = Rows()

            def on_progress(step: progress.Progress) -> None:
                detail = f"{step.what} {step.item}{rows.add(step)}"
                bar.update(task, total=step.total, completed=step.done, detail=detail)
                if self.verbose:
                    bar.console.print(f"  {detail} ({step.done}/{step.total or '?'})")

            yield on_progress

    @contextmanager
    def _plain(self, label: str):
        start = time.monotonic()
        last = start
        rows = Rows()

        def on_progress(step: progress.Progress) -> None:
            nonlocal last
            now = time.monotonic()
            detail = f"{step.what} {step.item}{rows.add(step)}"
            if self.verbose or now - last >= PLAIN_EVERY:
                last = now
                self.info(
                    f"{label}: {detail} ({step.done}/{step.total or '?'}), {now - start:.0f} s"
                )

        yield on_progress


class Rows:
    """Rows read so far in one run, for the progress line."""

    def __init__(self):
        self.total = 0

    def add(self, step: progress.Progress) -> str:
        if step.rows is None:
            return ""
        self.total += step.rows
        return f", {self.total} rows"


class _Handler(logging.Handler):
    def __init__(self, on_progress):
        super().__init__(logging.DEBUG)
        self.on_progress = on_progress

    def emit(self, record: logging.LogRecord) -> None:
        step = getattr(record, "progress", None)
        if step is not None:
            self.on_progress(step)


@contextmanager
def _listening(on_progress) -> Iterator[None]:
    """Receive the steps' progress reports while the block runs."""
    handler = _Handler(on_progress)
    level = progress.LOGGER.level
    progress.LOGGER.addHandler(handler)
    progress.LOGGER.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        progress.LOGGER.removeHandler(handler)
        progress.LOGGER.setLevel(level)
