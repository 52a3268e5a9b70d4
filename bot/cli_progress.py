"""A progress bar for a long import on the terminal: rows read, rows per second, and an
estimate of the time left (by bytes of the file read). Only on a terminal, only for a
file big enough to be waited for; scripts and logs get the summary line alone."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from handlers.importer import Progress as ImportProgress
from handlers.importer import Watcher

# Below this a file imports in about a second: a bar would only flicker.
WORTH_A_BAR_BYTES = 2 * 1024 * 1024


class ImportBar:
    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rows]:>10,} rows  {task.fields[rate]:>8,.0f} rows/s"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __call__(self, progress: ImportProgress) -> None:
        rate = progress.rows / progress.seconds if progress.seconds > 0 else 0.0
        description = "reading " if progress.step == "reading" else "applying"
        if self._task is None:
            self._task = self._bar.add_task(
                description, total=progress.total_bytes or None, rows=0, rate=0.0
            )
        self._bar.update(
            self._task,
            description=description,
            completed=progress.done_bytes,
            rows=progress.rows,
            rate=rate,
        )

    @contextmanager
    def shown(self) -> Iterator[ImportBar]:
        with self._bar:
            yield self


@contextmanager
def import_bar(size: int, stream: TextIO | None = None) -> Iterator[Watcher | None]:
    """A watcher that draws the bar, or None where no bar belongs."""
    stream = stream if stream is not None else sys.stderr
    if size < WORTH_A_BAR_BYTES or not stream.isatty():
        yield None
        return
    with ImportBar(Console(file=stream)).shown() as bar:
        yield bar
