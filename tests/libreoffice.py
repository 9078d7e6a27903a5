"""LibreOffice headless in the tests: rendering the notice, and Calc as a second reader of workbooks.

openpyxl reading back what XlsxWriter wrote proves little about what the office sees: the office
opens the workbook in WPS, Excel or Calc. Calc headless exports every sheet to CSV as it loaded
it, which the tests compare with the values the workbook was meant to hold.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

# Field separator ",", text delimiter '"', UTF-8 (76), from line 1, default cell format and
# language, quoted fields not forced to text, special numbers detected, raw values (not as shown),
# no formulas, spaces kept, then -1: every sheet to its own file, named <stem>-<sheet>.csv
# (LibreOffice 7.2 and later).
_CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def convert(source: Path, target: str, outdir: Path, *, profile: Path) -> str:
    """`soffice --headless --convert-to TARGET` with a profile of its own; returns what it printed.

    soffice exits 0 even when it found no filter for the file, so callers check the output."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("needs LibreOffice headless (libreoffice-writer-nogui, libreoffice-calc-nogui)")
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.stdout + done.stderr


def calc_sheets(workbook: bytes, workdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet of the workbook as Calc reads it: rows of cell texts, in Calc's sheet order."""
    source = workdir / "book.xlsx"
    source.write_bytes(workbook)
    out = workdir / "calc"
    printed = convert(source, _CSV_ALL_SHEETS, out, profile=workdir / "lo-profile")
    # Writer alone cannot read .xlsx and writes nothing; Calc names the sheets it wrote, in order.
    names = [
        line.split("Writing sheet ", 1)[1].rsplit(" -> ", 1)[0]
        for line in printed.splitlines()
        if "Writing sheet " in line
    ]
    if not names:
        pytest.fail(f"LibreOffice Calc wrote no sheet (is libreoffice-calc-nogui installed?): {printed}")
    sheets: dict[str, list[list[str]]] = {}
    for name in names:
        with (out / f"book-{name}.csv").open(encoding="utf-8", newline="") as f:
            sheets[name] = list(csv.reader(f))
    return sheets


def expected_sheets(workbook: bytes) -> dict[str, list[list[str]]]:
    """The workbook's sheets as openpyxl reads them, each cell as Calc's CSV writes a raw value."""
    book = load_workbook(io.BytesIO(workbook))
    return {ws.title: [[_as_calc(v) for v in row] for row in ws.iter_rows(values_only=True)] for ws in book}


def _as_calc(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # Calc writes at most 15 significant digits and drops a whole number's ".0".
        return format(value, ".15g")
    return str(value)
