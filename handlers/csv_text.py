"""The bytes of an uploaded list as text, or a plain word on what they are instead.

People upload whatever their spreadsheet program saved. A workbook or a "Unicode text"
export must be answered with what to do about it, not with a header of binary garbage.
"""

from __future__ import annotations

import codecs
import re

SAVE_AS = 'open it in the spreadsheet program and save it as "CSV (UTF-8)"'
_NOT_CSV = (
    (b"PK\x03\x04", "this is a spreadsheet (.xlsx or .ods), not a CSV file"),
    (b"\xd0\xcf\x11\xe0", "this is an Excel 97-2003 workbook (.xls), not a CSV file"),
    # The UTF-32 marks start with these two as well.
    (codecs.BOM_UTF16_LE, 'this is "Unicode text" (UTF-16), not a CSV file'),
    (codecs.BOM_UTF16_BE, 'this is "Unicode text" (UTF-16), not a CSV file'),
    (b"%PDF", "this is a PDF document, not a CSV file"),
)
# Control characters: no person types them; they garble the terminal and the letters, and
# PostgreSQL refuses NUL in text. A header may hold the delimiter tab and the line ends.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_HEADER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Before decoding: bytes 0x80-0x9F are letters in Windows-1252, so only C0 and DEL count.
_CONTROL_BYTE_IN_HEADER = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_END = re.compile(r"\r\n?|\n")
_LINE_END_BYTES = re.compile(rb"\r\n?|\n")


class NotCsvText(ValueError):
    """The bytes are no CSV text; ``line`` is where that shows, 0 for the file as a whole."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(reason)


def _looks_like_utf16(data: bytes) -> bool:
    # Without its byte order mark UTF-16 still shows: a NUL beside every letter of the header.
    end = data.find(b"\n")
    head = data[: end if end > 0 else 256][:256]
    return len(head) >= 4 and head.count(0) * 3 >= len(head)


def _binary_header(found: str) -> NotCsvText:
    return NotCsvText(
        1,
        f"this is not a CSV file (its header holds binary data, U+{ord(found):04X}): {SAVE_AS}",
    )


def _line_of(data: bytes, position: int) -> int:
    # Counted as the csv reader counts: old Mac exports end their lines with a bare CR.
    return sum(1 for _ in _LINE_END_BYTES.finditer(data, 0, position)) + 1


def decode_csv_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252; NotCsvText for anything else."""
    for magic, what in _NOT_CSV:
        if data.startswith(magic):
            raise NotCsvText(0, f"{what}: {SAVE_AS}")
    if _looks_like_utf16(data):
        raise NotCsvText(0, f'this is "Unicode text" (UTF-16), not a CSV file: {SAVE_AS}')
    # Random bytes: say so before reporting the first one that is no text.
    end = _LINE_END_BYTES.search(data)
    if found_byte := _CONTROL_BYTE_IN_HEADER.search(data, 0, end.start() if end else len(data)):
        raise _binary_header(found_byte.group().decode("ascii"))
    has_bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data[len(codecs.BOM_UTF8) if has_bom else 0 :].decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        if has_bom:
            # The file says it is UTF-8: read as Windows-1252 it would import garbled.
            position = len(codecs.BOM_UTF8) + utf8_error.start
            raise NotCsvText(
                _line_of(data, position),
                f"byte 0x{data[position]:02X} is not UTF-8, though the file says it is: {SAVE_AS}",
            ) from None
        try:
            # Older Dutch back offices still export Windows-1252.
            text = data.decode("cp1252")
        except UnicodeDecodeError as cp1252_error:
            position = cp1252_error.start
            raise NotCsvText(
                _line_of(data, position),
                f"byte 0x{data[position]:02X} is neither UTF-8 nor Windows-1252 text: {SAVE_AS}",
            ) from None
    end_of_header = _LINE_END.search(text)
    header = text[: end_of_header.start()] if end_of_header else text
    if found := _CONTROL_IN_HEADER.search(header):
        raise _binary_header(found.group())
    return text
