"""A list read as a stream: from disk it gives what the same bytes in memory give, a bad
line anywhere still changes nothing, and a long list shows its progress (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
import gc
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli_progress import WORTH_A_BAR_BYTES, import_bar
from bot.runtime import Runtime
from handlers.arrears_file import ArrearsFileError, ArrearsRow, LineError, Problems
from handlers.arrears_source import ArrearsOnDisk, ArrearsText
from handlers.importer import Progress
from storage.models import Case, CaseEvent, ContactPoint, Tenant
from tests.db_helpers import snapshot
from tests.factories import HEADER, row


def _lines(*rows: str, end: str = "\r\n") -> str:
    return end.join([HEADER, *rows]) + end


def _read(source: ArrearsText | ArrearsOnDisk) -> list[object]:
    return list(source.read())


@pytest.mark.parametrize(
    "data",
    [
        _lines(row("T1"), row("T2", name="Ëlla Çelik")).encode(),
        _lines(row("T1"), row("T2"), end="\n").encode(),
        _lines(row("T1"), row("T2"), end="\r").encode(),  # an old Mac export
        b"\xef\xbb\xbf" + _lines(row("T1")).encode(),  # UTF-8 with its mark
        _lines(row("T1", name="Jos\u00e9 M\u00fcller")).encode("cp1252"),  # Windows-1252
        _lines(
            row("T1"), 'T2;"Anna\r\nde Vries";06-12345678;;nl;650,00;1,00;01-12-2026;;1'
        ).encode(),
        _lines(row("T1"), row("T1"), "T3;;;;nl;x;y;z;;").encode(),
    ],
    ids=["utf8", "lf", "cr", "bom", "cp1252", "quoted-break", "bad-lines"],
)
def test_a_file_on_disk_reads_as_the_same_bytes_in_memory(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    on_disk = ArrearsOnDisk(path)
    in_memory = ArrearsText(data)
    assert _read(on_disk) == _read(in_memory)
    assert on_disk.sha256 == in_memory.sha256


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04rest", b"\xff\xfet\x00e\x00", b"tenant_ref\x01;name\n", b"", b"a;b\n\x81\x8d\n"],
    ids=["xlsx", "utf16", "binary-header", "empty", "no-text"],
)
def test_what_is_no_csv_text_is_said_the_same_from_disk(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    with pytest.raises(ArrearsFileError) as from_disk:
        _read(ArrearsOnDisk(path))
    with pytest.raises(ArrearsFileError) as from_memory:
        _read(ArrearsText(data))
    assert from_disk.value.errors == from_memory.value.errors


def test_a_thousand_problems_are_shown_and_the_rest_counted() -> None:
    problems = Problems()
    for line in range(2, 2 + Problems.MAX_SHOWN + 40):
        problems.add(LineError(line, "bad"))
    errors = problems.error([LineError(1, "first")]).errors
    assert len(errors) == Problems.MAX_SHOWN + 1
    assert errors[0] == LineError(1, "first")
    assert errors[-1] == LineError(0, "and 41 more lines with problems")


async def test_a_list_from_disk_imports_like_the_same_bytes(
    runtime: Runtime, tmp_path: Path
) -> None:
    data = _lines(
        row("T1", phone="06-12345678", email="a@example.nl"),
        row("T2", phone="06-12345678"),  # one phone for two tenants: shared
        row("T3", phone="06-87654321", balance="0,00"),
    ).encode()
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    seen: list[Progress] = []
    summary = await runtime.import_file(path, seen.append)
    assert (summary.rows, summary.tenants_created, summary.opened) == (3, 3, 2)
    assert [p.step for p in seen][-1] == "applying"
    assert seen[-1].rows == 3
    again = await runtime.import_data(data, "same.csv")
    assert again.already_imported
    async with runtime.sessions() as session:
        points = list(await session.execute(select(ContactPoint.channel, ContactPoint.shared)))
        shared = [("sms", True)] * 2 + [("sms", False)] + [("whatsapp", True)] * 2
        assert sorted(points) == sorted([("email", False), ("whatsapp", False), *shared])
        kinds = list(await session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id)))
        assert kinds == ["opened", "opened"]
        event = await session.scalar(select(CaseEvent).order_by(CaseEvent.id))
        assert event is not None
        assert event.data == {"balance_cents": 65000, "arrears_since": "2026-12-01"}


async def test_the_next_list_changes_balances_with_their_events(runtime: Runtime) -> None:
    await runtime.import_data(_lines(row("T1"), row("T2")).encode(), "day1.csv")
    second = _lines(row("T1", balance="700,00", as_of="02-12-2026"), row("T2", as_of="02-12-2026"))
    summary = await runtime.import_data(second.encode(), "day2.csv")
    assert (summary.opened, summary.updated, summary.closed) == (0, 1, 0)
    async with runtime.sessions() as session:
        changed = await session.scalar(select(CaseEvent).where(CaseEvent.kind == "balance_changed"))
        assert changed is not None
        assert changed.data == {
            "previous_cents": 65000,
            "balance_cents": 70000,
            "as_of": "2026-12-02",
        }
        case = await session.scalar(select(Case).join(Tenant).where(Tenant.external_ref == "T1"))
        assert case is not None and (case.balance_cents, case.version) == (70000, 2)


async def test_a_tenant_listed_twice_far_apart_changes_nothing(runtime: Runtime) -> None:
    await runtime.import_data(_lines(row("T0")).encode(), "day1.csv")
    before = await snapshot(runtime)
    rows = [row(f"T{i}") for i in range(1, 25_001)] + [row("T7", balance="5,00")]
    with pytest.raises(ArrearsFileError) as caught:
        await runtime.import_data(_lines(*rows).encode(), "big.csv")
    assert caught.value.errors == [LineError(25_002, "tenant_ref 'T7' also on line 8")]
    assert await snapshot(runtime) == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_import_draws_a_bar_on_a_terminal_only() -> None:
    terminal = _Terminal()
    with import_bar(WORTH_A_BAR_BYTES, terminal) as watcher:
        assert watcher is not None
        watcher(Progress("reading", 50_000, 1_000_000, 4_000_000, 1.0))
        watcher(Progress("applying", 200_000, 4_000_000, 4_000_000, 3.0))
    assert "rows/s" in terminal.getvalue()
    with import_bar(WORTH_A_BAR_BYTES, io.StringIO()) as watcher:
        assert watcher is None  # a pipe or a log: the summary line alone
    with import_bar(WORTH_A_BAR_BYTES - 1, _Terminal()) as watcher:
        assert watcher is None


class _BreaksHalfWay(ArrearsText):
    """A list whose reading fails after some rows (a disk error, a file cut short)."""

    def __init__(self, data: bytes, after: int) -> None:
        super().__init__(data)
        self._after = after

    def read(self) -> Iterator[ArrearsRow | LineError]:
        for n, item in enumerate(super().read()):
            if n == self._after:
                raise OSError("the disk went away")
            yield item


async def test_a_list_that_cannot_be_read_to_the_end_changes_nothing(runtime: Runtime) -> None:
    # Past the first batch, so a batch is being written when reading fails.
    data = _lines(*(row(f"T{n}") for n in range(25_000))).encode()
    loop = asyncio.get_running_loop()
    unretrieved: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    try:
        with pytest.raises(OSError, match="disk went away"):
            await runtime.import_source(_BreaksHalfWay(data, after=21_000), "cut.csv")
        gc.collect()  # an error of a task no one awaited is reported when the task goes
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert unretrieved == []
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Tenant)) == 0
    # The connection is fine for the next list.
    summary = await runtime.import_data(_lines(row("T1")).encode(), "next.csv")
    assert summary.opened == 1
