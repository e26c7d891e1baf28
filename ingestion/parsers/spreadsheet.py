"""Spreadsheets: XLSX (openpyxl), XLS (xlrd) and CSV. Each sheet is a page named after the sheet,
and each block of filled rows one or more Tables under the block's first row, so every chunk of a
long sheet still says what its columns are and which sheet rows it holds.

Sheets are read row by row (openpyxl's read-only mode streams the sheet XML), cells become text at
once, and a workbook stops being read at `MAX_CELLS` filled cells with a note saying where: a
sheet of millions of cells would exhaust the parser's memory and then take hours to embed.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from pathlib import Path

from ingestion.parsers.base import ParsedDocument, ParseError, unreadable_error
from ingestion.parsers.builder import DocumentBuilder
from ingestion.parsers.sniff import encrypted_error

MAX_CELLS = 1_000_000  # filled cells read from one workbook or CSV
CSV_SNIFF_CHARS = 16_384

Row = tuple[int, list[str]]  # 1-based sheet row number, cell texts
Filled = tuple[int, dict[int, str]]  # the same with only its filled cells, by column index


class _Budget:
    def __init__(self, cells: int) -> None:
        self.left = cells
        self.spent = False


def parse_xlsx(path: Path) -> ParsedDocument:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a broken package
        raise _unreadable(exc) from exc
    builder, budget = DocumentBuilder(), _Budget(MAX_CELLS)
    try:
        for sheet in workbook.worksheets:
            sheet.reset_dimensions()  # a stated size can lie (or be absurd); read what is there
            rows = (
                (number, [_xlsx_text(cell) for cell in cells])
                for number, cells in enumerate(sheet.iter_rows(), start=1)
            )
            add_sheet(builder, sheet.title, rows, budget)
    except (ParseError, MemoryError):  # the sandbox reports running out of memory as such
        raise
    except Exception as exc:
        raise _unreadable(exc) from exc
    finally:
        workbook.close()
    return builder.build()


def parse_xls(path: Path) -> ParsedDocument:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True, logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise encrypted_error() from exc
        raise _unreadable(exc) from exc
    except MemoryError:
        raise
    except Exception as exc:
        raise _unreadable(exc) from exc
    builder, budget = DocumentBuilder(), _Budget(MAX_CELLS)
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = (
                (number + 1, [_xls_text(cell, book.datemode) for cell in sheet.row(number)])
                for number in range(sheet.nrows)
            )
            add_sheet(builder, sheet.name, rows, budget)
            book.unload_sheet(index)
    except (ParseError, MemoryError):  # the sandbox reports running out of memory as such
        raise
    except Exception as exc:
        raise _unreadable(exc) from exc
    finally:
        book.release_resources()
    return builder.build()


def parse_csv(path: Path, *, name: str) -> ParsedDocument:
    """One page; its tables are captioned with the file's name (a CSV has no sheet name)."""
    from ingestion.parsers.text import decode

    text = decode(path.read_bytes())
    if "\x00" in text:
        raise ParseError("The file is named as text but holds binary data.", "not_text")
    sample = text[:CSV_SNIFF_CHARS].rpartition("\n")[0] or text[:CSV_SNIFF_CHARS]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel  # one column, or too irregular to tell: commas
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    builder = DocumentBuilder()
    try:
        rows = ((number, [_text(v) for v in record]) for number, record in enumerate(reader, 1))
        add_sheet(builder, Path(name).stem, rows, _Budget(MAX_CELLS), heading=False)
    except csv.Error as exc:
        raise _unreadable(f"line {reader.line_num}: {exc}") from exc
    return builder.build()


def add_sheet(
    builder: DocumentBuilder,
    name: str,
    rows: Iterable[Row],
    budget: _Budget,
    *,
    heading: bool = True,
) -> None:
    """One page for the sheet, headed by its name. Filled rows separated by two or more empty
    rows are separate tables, each under its own first row; a single empty row splits a table
    into parts under the same header (so every part's row numbers stay the sheet's); a lone cell
    above a table is its title, said in the caption."""
    builder.page(name if heading else "")
    unread = budget.spent
    filled = _filled_rows(name, rows, budget, builder.notes)
    if filled and heading:
        builder.text(name, 1)
    for block in _blocks(filled):
        title = ""
        if len(block) > 2 and len(_used_columns(block)) > 1 and len(block[0][1]) == 1:
            (title,) = block[0][1].values()
            builder.text(title)
            block = block[1:]
        if len(block) == 1:
            builder.text(" ".join(block[0][1].values()))
            continue
        columns = _used_columns(block)
        table = [(n, [cells.get(i, "") for i in columns]) for n, cells in block]
        caption = " > ".join(part for part in (name, title) if part)
        header = table[0][1]
        for part in _parts(table[1:]):
            builder.table(
                header, [cells for _, cells in part], caption=caption, first_row=part[0][0]
            )
    if not filled and not unread:
        builder.notes.append(f"Sheet {name!r} is empty.")


def _filled_rows(name: str, rows: Iterable[Row], budget: _Budget, notes: list[str]) -> list[Filled]:
    """The rows with a filled cell, kept sparse: a row with cells in columns A and XFD must not
    cost 16,384 entries for every such row."""
    kept: list[Filled] = []
    if budget.spent:
        notes.append(f"Sheet {name!r} was not read: the cell limit ({MAX_CELLS:,}) was reached.")
        return kept
    for number, cells in rows:
        filled = {i: cell for i, cell in enumerate(cells) if cell}
        if not filled:
            continue
        if len(filled) > budget.left:
            budget.spent = True
            notes.append(
                f"Sheet {name!r} was read up to row {number - 1}: the workbook has more than "
                f"{MAX_CELLS:,} filled cells, the most one document takes; split it to index "
                "the rest."
            )
            break
        budget.left -= len(filled)
        kept.append((number, filled))
    return kept


def _used_columns(block: list[Filled]) -> list[int]:
    return sorted({i for _, cells in block for i in cells})


def _blocks(rows: list[Filled]) -> Iterator[list[Filled]]:
    block: list[Filled] = []
    for row in rows:
        if block and row[0] - block[-1][0] > 2:
            yield block
            block = []
        block.append(row)
    if block:
        yield block


def _parts(rows: list[Row]) -> Iterator[list[Row]]:
    part: list[Row] = []
    for row in rows:
        if part and row[0] != part[-1][0] + 1:
            yield part
            part = []
        part.append(row)
    if part:
        yield part


def _text(value: object) -> str:
    """A cell as a person reads it: whole numbers without ".0", floats without binary noise
    (0.1 + 0.2 shows as 0.3), dates in ISO form, midnight times left off dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return " ".join(str(value).split())


def _xlsx_text(cell) -> str:
    value = getattr(cell, "value", None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if cell.number_format.endswith("%") and math.isfinite(value):
            return f"{value * 100:.15g}%"
    return _text(value)


def _xls_text(cell, datemode: int) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return _text(cell.value)
        return _text(moment.time() if cell.value < 1 else moment)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return _text(bool(cell.value))
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")
    return _text(cell.value)


def _unreadable(detail: object) -> ParseError:
    return unreadable_error("a readable spreadsheet", "unreadable_spreadsheet", detail)
