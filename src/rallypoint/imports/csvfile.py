"""Reading a CSV someone exported from somewhere: encoding, dialect, and rows with line numbers."""

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from charset_normalizer import from_bytes

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t"
# Binary files we are sent instead of a CSV: .xlsx/.ods (ZIP), .xls/.doc (OLE2), PDF.
BINARY_STARTS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")
# More NUL bytes than this share of the sample: a binary file, not a text with a stray NUL.
BINARY_NUL_SHARE = 0.01
# Bytes that can't be decoded are read as this (a lone surrogate, which no decoded text contains)
# so that the row holding them is reported instead of imported with a guess.
UNDECODABLE = "\udcff"
_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# A cell longer than this is a broken file (an unclosed quote swallowing the rest), not data.
MAX_FIELD_CHARS = 10_000
csv.field_size_limit(MAX_FIELD_CHARS)


class CsvFormatError(ValueError):
    """The file cannot be read as a table; the message says why, for the organizer."""


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str
    quotechar: str = '"'


@dataclass(frozen=True)
class Record:
    """One data row: `line` is where it starts in the file (the header is line 1). A row with
    a `problem` is skipped; its `values` are then None (unparseable) or cleaned for display."""

    line: int
    values: list[str] | None
    problem: str = ""


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    return UNDECODABLE, exc.end  # type: ignore[attr-defined]


codecs.register_error("rallypoint-mark", _mark_undecodable)


def has_bad_characters(value: str) -> bool:
    """NUL, a lone surrogate or an undecodable byte: nothing a database should store (PostgreSQL
    refuses NUL in text and JSON, and surrogates can't be encoded at all)."""
    return _BAD_CHARACTERS.search(value) is not None


def clean_characters(value: str) -> str:
    """`value` with NUL, lone surrogates and undecodable bytes shown as U+FFFD."""
    return _BAD_CHARACTERS.sub("\ufffd", value)


def without_bad_characters(value: str) -> str:
    """`value` with NUL, lone surrogates and undecodable bytes left out (for a file's name)."""
    return _BAD_CHARACTERS.sub("", value)


def bad_characters_problem(values: list[str], headers: list[str], encoding: str) -> str:
    """Why a row holding NUL, surrogates or undecodable bytes is skipped, naming the column."""
    for index, value in enumerate(values):
        found = _BAD_CHARACTERS.search(value)
        if found is None:
            continue
        column = headers[index][:60] if index < len(headers) and headers[index] else f"{index + 1}"
        if found.group() == "\x00":
            return f"Column “{column}” contains a NUL character (shown as � in this copy)."
        return (
            f"Column “{column}” contains bytes that aren't valid {encoding} text"
            " (shown as � in this copy)."
        )
    return ""


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # A full sample may end in the middle of a multi-byte character: ignore a short tail.
    head = sample if len(sample) < SAMPLE_BYTES else sample[:-4]
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "utf_8"]).best()
    encoding = best.encoding if best is not None else "cp1252"
    # Windows exports say latin-1 but use cp1252's curly quotes; cp1252 decodes both correctly.
    return "cp1252" if encoding in {"latin_1", "iso8859_1", "ascii"} else encoding


def detect_dialect(text: str) -> tuple[str, str]:
    """(delimiter, quote character) of a decoded sample, from csv.Sniffer checked against the
    header line; falls back to the most frequent candidate in the header."""
    lines = text.splitlines()[:50]
    if not lines:
        raise CsvFormatError("The file is empty.")
    header = lines[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS)
        delimiter, quotechar = dialect.delimiter, dialect.quotechar or '"'
    except csv.Error:
        delimiter, quotechar = "", '"'
    if delimiter not in DELIMITERS or counts.get(delimiter, 0) == 0:
        delimiter = max(DELIMITERS, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            delimiter = ","  # a single column
    if quotechar not in {'"', "'"}:
        quotechar = '"'
    return delimiter, quotechar


def detect_format(path: Path) -> CsvFormat:
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip():
        raise CsvFormatError("The file is empty.")
    utf16 = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if sample.startswith(BINARY_STARTS) or (
        not utf16 and sample.count(b"\x00") > len(sample) * BINARY_NUL_SHARE
    ):
        raise CsvFormatError("This looks like a spreadsheet or other binary file, not a CSV.")
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    delimiter, quotechar = detect_dialect(text)
    return CsvFormat(encoding=encoding, delimiter=delimiter, quotechar=quotechar)


def open_text(path: Path, fmt: CsvFormat) -> IO[str]:
    # Undecodable bytes are marked (UNDECODABLE) instead of stopping the import half-way: the
    # rows holding them are reported with their line.
    return open(path, encoding=fmt.encoding, errors="rallypoint-mark", newline="")


def _reader(handle: IO[str], fmt: CsvFormat):
    return csv.reader(handle, delimiter=fmt.delimiter, quotechar=fmt.quotechar, strict=False)


def read_header(path: Path, fmt: CsvFormat, sample_rows: int = 5) -> tuple[list[str], list[list]]:
    """(header cells, the first few data rows) for the column-mapping screen."""
    with open_text(path, fmt) as handle:
        reader = _reader(handle, fmt)
        try:
            header = next(reader)
        except StopIteration:
            raise CsvFormatError("The file is empty.")
        except csv.Error as exc:
            raise CsvFormatError(f"The first line can't be read as CSV headers ({exc}).")
        rows: list[list[str]] = []
        while len(rows) < sample_rows:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:
                continue
            if row:
                rows.append([clean_characters(cell) for cell in row])
    header = [cell.strip().lstrip("\ufeff") for cell in header]
    if not any(header):
        raise CsvFormatError("The first line is blank: it should name the columns.")
    for index, cell in enumerate(header, start=1):
        found = _BAD_CHARACTERS.search(cell)
        if found is not None:
            what = "a NUL character" if found.group() == "\x00" else "bytes that aren't text"
            raise CsvFormatError(
                f"The first line (the column names) has {what} in column {index}:"
                " save the file again as CSV (UTF-8) and upload it again."
            )
    return header, rows


def records(path: Path, fmt: CsvFormat, *, skip: int = 0) -> Iterator[Record]:
    """Data rows after the header, blank lines left out. The first `skip` records are read but
    not returned (resuming an import)."""
    with open_text(path, fmt) as handle:
        reader = _reader(handle, fmt)
        try:
            headers = [cell.strip().lstrip("\ufeff") for cell in next(reader)]
        except (StopIteration, csv.Error):
            return
        seen = 0
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                record = Record(line, None, _csv_problem(exc))
            else:
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue
                if has_bad_characters("".join(values)):
                    problem = bad_characters_problem(values, headers, fmt.encoding)
                    record = Record(line, [clean_characters(v) for v in values], problem)
                else:
                    record = Record(line, values)
            seen += 1
            if seen > skip:
                yield record


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"A cell is longer than {MAX_FIELD_CHARS:,} characters (an unclosed quote?)."
    return f"This line can't be read as CSV: {text}."


def count_lines(path: Path) -> int:
    """Newlines in the file: an upper bound of the data rows (+1 for the header), read fast."""
    count = 0
    last = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            count += chunk.count(b"\n")
            last = chunk
    if last and not last.endswith(b"\n"):
        count += 1
    return count
