import codecs

import pytest

from rallypoint.imports.csvfile import (
    MAX_FIELD_CHARS,
    CsvFormat,
    CsvFormatError,
    Record,
    count_lines,
    detect_format,
    read_header,
    records,
)

UTF8 = CsvFormat("utf-8", ",")


def test_detect_format_plain_utf8_comma(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("email,first name\nzoë@example.org,Zoë\n", encoding="utf-8")
    assert detect_format(path) == CsvFormat("utf-8", ",", '"')


def test_detect_format_utf8_with_bom_strips_it_from_the_header(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"Email;Name\na@example.org;Ana\n")
    fmt = detect_format(path)
    assert (fmt.encoding, fmt.delimiter) == ("utf-8-sig", ";")
    assert read_header(path, fmt)[0] == ["Email", "Name"]


def test_detect_format_latin1_reads_accents(tmp_path):
    path = tmp_path / "a.csv"
    text = "email;prénom;ville\n" + "".join(f"p{i}@example.org;Renée;Besançon\n" for i in range(30))
    path.write_bytes(text.encode("latin-1"))
    fmt = detect_format(path)
    assert fmt.encoding == "cp1252"
    assert fmt.delimiter == ";"
    header, rows = read_header(path, fmt)
    assert header == ["email", "prénom", "ville"]
    assert rows[0] == ["p0@example.org", "Renée", "Besançon"]


def test_detect_format_tab_separated(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("email\tfirst name\tcity\na@example.org\tAna\tDenver, CO\n")
    assert detect_format(path).delimiter == "\t"


def test_detect_format_comma_when_cells_contain_semicolons(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('email,tags,name\na@example.org,"x;y;z",Ana\nb@example.org,"p;q",Ben\n')
    assert detect_format(path).delimiter == ","


def test_detect_format_refuses_empty_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("  \n")
    with pytest.raises(CsvFormatError, match="empty"):
        detect_format(path)


def test_detect_format_refuses_binary_spreadsheet(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04\x00\x00\x08\x00binary")
    with pytest.raises(CsvFormatError, match="spreadsheet"):
        detect_format(path)


def test_records_give_the_line_where_each_row_starts(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('email,note\na@example.org,"two\nlines"\n\nb@example.org,x\n')
    got = [(r.line, r.values) for r in records(path, UTF8)]
    assert got == [(2, ["a@example.org", "two\nlines"]), (5, ["b@example.org", "x"])]


def test_records_report_an_over_long_cell_and_carry_on(tmp_path):
    path = tmp_path / "a.csv"
    big = "x" * (MAX_FIELD_CHARS + 1)
    path.write_text(f"email,note\na@example.org,{big}\nb@example.org,ok\n")
    got = list(records(path, UTF8))
    assert got[0].line == 2
    assert got[0].values is None
    assert got[0].problem == "A cell is longer than 10,000 characters (an unclosed quote?)."
    assert (got[1].line, got[1].values) == (3, ["b@example.org", "ok"])


def test_records_skip_resumes_after_committed_rows(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("email\na@example.org\n\nb@example.org\nc@example.org\n")
    assert [r.values for r in records(path, UTF8, skip=2)] == [["c@example.org"]]


def test_count_lines_counts_a_last_line_without_newline(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("email\na@example.org\nb@example.org")
    assert count_lines(path) == 3


def test_records_report_a_row_with_a_nul_byte_and_keep_a_clean_copy(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"email,name\na@example.org,An\x00a\nb@example.org,Ben\n")
    got = list(records(path, UTF8))
    assert got == [
        Record(
            2,
            ["a@example.org", "An\ufffda"],
            "Column “name” contains a NUL character (shown as � in this copy).",
        ),
        Record(3, ["b@example.org", "Ben"]),
    ]


def test_records_report_bytes_that_are_not_utf8_instead_of_guessing(tmp_path):
    path = tmp_path / "a.csv"
    # \xed\xa0\x80 is a lone surrogate written as UTF-8, \xff is never UTF-8.
    path.write_bytes(b"email,name\na@example.org,\xed\xa0\x80\nb@example.org,B\xffn\nc@x.org,Cy\n")
    got = list(records(path, UTF8))
    assert [(r.line, r.problem) for r in got] == [
        (2, "Column “name” contains bytes that aren't valid utf-8 text (shown as � in this copy)."),
        (3, "Column “name” contains bytes that aren't valid utf-8 text (shown as � in this copy)."),
        (4, ""),
    ]
    assert [r.values for r in got[:2]] == [
        ["a@example.org", "\ufffd\ufffd\ufffd"],  # one per byte
        ["b@example.org", "B\ufffdn"],
    ]


def test_detect_format_reads_a_text_file_with_a_stray_nul_as_csv(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(
        b"email,name\n"
        + b"".join(b"p%d@example.org,P\n" % i for i in range(20))
        + b"x@example.org,\x00\n"
    )
    assert detect_format(path) == CsvFormat("utf-8", ",", '"')


def test_detect_format_refuses_a_file_that_is_mostly_nul_bytes(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"email\x00,\x00name\x00\n\x00a\x00b\x00\n")
    with pytest.raises(CsvFormatError, match="spreadsheet"):
        detect_format(path)


@pytest.mark.parametrize(
    ("header", "what"),
    [(b"email,na\x00me", "a NUL character"), (b"email,n\xffme", "bytes that aren't text")],
)
def test_read_header_refuses_column_names_with_nul_or_undecodable_bytes(tmp_path, header, what):
    path = tmp_path / "a.csv"
    path.write_bytes(header + b"\na@example.org,Ana\n")
    with pytest.raises(CsvFormatError) as info:
        read_header(path, UTF8)
    assert str(info.value) == (
        f"The first line (the column names) has {what} in column 2:"
        " save the file again as CSV (UTF-8) and upload it again."
    )
