"""An arrears list to import, read as a stream: its rows one by one, how far the reading
has got, and its digest (the same file twice changes nothing).

A file on disk is read twice, cheaply: once for its digest and to see that it is plain
UTF-8, then row by row. Anything unusual (Windows-1252, a byte that is no text, a header
that is binary) is read whole and judged by handlers.csv_text, which says what is wrong.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from handlers.arrears_file import (
    ArrearsFile,
    ArrearsFileError,
    ArrearsRow,
    LineError,
    read_rows,
    text_lines,
)
from handlers.csv_text import NotCsvText, decode_csv_text

_CHUNK = 1 << 20
# A header longer than this is judged with the whole file in memory.
_HEADER_BYTES = 1 << 16


class ArrearsSource(Protocol):
    """What the importer reads: the rows, the digest, and progress in bytes."""

    @property
    def sha256(self) -> str: ...

    @property
    def size(self) -> int: ...

    def read(self) -> Iterator[ArrearsRow | LineError]: ...

    def position(self) -> int: ...


@dataclass
class ArrearsText:
    """A list held in memory (an upload)."""

    data: bytes
    region: str = "NL"
    today: date | None = None
    _done: int = field(default=0, init=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self) -> Iterator[ArrearsRow | LineError]:
        try:
            text = decode_csv_text(self.data)
        except NotCsvText as exc:
            raise ArrearsFileError([LineError(exc.line, exc.reason)]) from None
        scale = len(self.data) / max(1, len(text))

        def counted() -> Iterator[str]:
            done = 0
            for line in text_lines(text):
                done += len(line)
                self._done = int(done * scale)
                yield line

        yield from read_rows(counted(), self.region, today=self.today)

    def position(self) -> int:
        return self._done


@dataclass
class ArrearsOnDisk:
    """A list in a file, read row by row: a million rows cost no more memory than ten."""

    path: Path
    region: str = "NL"
    today: date | None = None
    _digest: str = field(default="", init=False)
    _plain: bool = field(default=False, init=False)
    _file: io.BufferedReader | None = field(default=None, init=False)
    _whole: ArrearsText | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        decoder = codecs.getincrementaldecoder("utf-8")()
        plain = True
        with self.path.open("rb") as raw:
            head = raw.read(_HEADER_BYTES)
            chunk = head
            while chunk:
                digest.update(chunk)
                if plain:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        plain = False
                chunk = raw.read(_CHUNK)
        if plain:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                plain = False
        self._digest = digest.hexdigest()
        ends = [at for at in (head.find(b"\n"), head.find(b"\r")) if at >= 0]
        self._plain = plain and bool(ends)
        if self._plain:
            # The header alone shows a workbook, "Unicode text" or binary data.
            try:
                decode_csv_text(head[: min(ends)])
            except NotCsvText:
                self._plain = False

    @property
    def sha256(self) -> str:
        return self._digest

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def read(self) -> Iterator[ArrearsRow | LineError]:
        if not self._plain:
            self._whole = ArrearsText(self.path.read_bytes(), self.region, self.today)
            yield from self._whole.read()
            return
        with self.path.open("rb") as raw:
            self._file = raw
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            yield from read_rows(iter(text), self.region, today=self.today)

    def position(self) -> int:
        if self._whole is not None:
            return self._whole.position()
        return self._file.tell() if self._file is not None and not self._file.closed else 0


@dataclass
class ArrearsRows:
    """Rows made elsewhere (the demo's daily list)."""

    parsed: ArrearsFile

    @property
    def sha256(self) -> str:
        return self.parsed.sha256

    @property
    def size(self) -> int:
        return len(self.parsed.rows)

    def read(self) -> Iterator[ArrearsRow | LineError]:
        yield from self.parsed.rows

    def position(self) -> int:
        return 0
