"""File downloads built as they are sent (no whole file in memory), and the one rule that keeps
a spreadsheet from running a downloaded cell as a formula."""

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

_PHONE_LIKE = re.compile(r"[+-][\d\s().-]*")


def safe_cell(value: Any) -> str:
    """Stop a spreadsheet from running a cell as a formula (=, @, +, -, tab or carriage return
    at the start), but leave phone numbers like +12025550123 as they are. None is empty."""
    text = "" if value is None else str(value)
    if text and (text[0] in "=@\t\r" or (text[0] in "+-" and not _PHONE_LIKE.fullmatch(text))):
        return "'" + text
    return text


def safe_row(values: Iterable[Any]) -> list[str]:
    return [safe_cell(v) for v in values]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list[Any]], filename: str) -> StreamingHttpResponse:
    """Stream rows as a UTF-8 CSV download (with a BOM, so spreadsheets read accents right).
    Rows should already be safe (`safe_row`) where they hold text people typed."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
