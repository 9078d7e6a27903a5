"""The office's one-shot commands load only what they use and leave the collector as they found it.

`scores`, `notice monthly` and `report year` run in a second or two at province scale; the
database migrations (alembic), the documents (openpyxl, XlsxWriter, python-docx), rich's tables and the mail
stack each cost a tenth of a second or more to import, so a command that needs none of them must
not load them. Each command here runs in a fresh interpreter, as the office runs it.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from daemon.db import make_engine, upgrade
from daemon.notices import run_due
from tests.daemon.test_scores_cli import june_ledger, make_bureau

CST = ZoneInfo("Asia/Shanghai")
# The bureau's mailbox, which the daemon's notices are sent from.
MAIL = """
[mailbox]
user = "pjyjjbgs@163.com"

[smtp]
user = "pjyjjbgs@163.com"
"""
HEAVY = (
    "alembic",
    "openpyxl",
    "xlsxwriter",
    "docx",
    "rich",
    "jinja2",
    "daemon.runtime",
    "daemon.replies",
    "daemon.mailbox",
)
# Runs the command line as `xinbao` does, then prints which of the modules named in argv[2] it
# imported, as the last line.
PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["xinbao", *json.loads(sys.argv[1])]
from daemon.cli import main
try:
    main()
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
print()
print(json.dumps(sorted({h for h in heavy for m in sys.modules if m == h or m.startswith(h + ".")})))
"""


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """危化科's June on a migrated SQLite ledger; the path of its config."""
    url = f"sqlite:///{tmp_path / 'xinbao.db'}"
    engine = make_engine(url)
    upgrade(engine)
    try:
        june_ledger(make_bureau(engine, url, tmp_path, MAIL))
    finally:
        engine.dispose()
    return tmp_path / "config.toml"


def imported(config: Path, *args: str) -> tuple[str, set[str]]:
    """The output of `xinbao --config CONFIG ARGS…` run alone, and which of HEAVY it imported."""
    argv = json.dumps(["--config", str(config), *args])
    done = subprocess.run(
        [sys.executable, "-c", PROBE, argv, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    output, _, modules = done.stdout.rstrip("\n").rpartition("\n")
    return output, set(json.loads(modules))


def test_scores_as_json_loads_no_migrations_documents_tables_or_mail(ledger: Path) -> None:
    """`scores --month --json` and `scores --year --json` on a ledger at the newest schema import
    neither alembic, nor the document or table libraries, nor the mail stack."""
    output, loaded = imported(ledger, "scores", "--month", "2025-06", "--json")
    assert json.loads(output)["month"] == "2025-06"
    assert loaded == set()
    output, loaded = imported(ledger, "scores", "--year", "2025", "--people", "--json")
    assert json.loads(output)["people"]
    assert loaded == set()


def test_the_human_table_loads_rich_only(ledger: Path) -> None:
    """The table a person reads is drawn by rich, and nothing else heavy comes with it."""
    output, loaded = imported(ledger, "scores", "--month", "2025-06")
    assert "危化科" in output
    assert loaded == {"rich"}


def test_a_notice_without_send_loads_no_mail_stack(ledger: Path, tmp_path: Path) -> None:
    """`notice monthly --out` renders the .docx, .xlsx and mail body (python-docx, XlsxWriter,
    jinja2), but neither the daemon's runtime nor the mail composing stack: nothing is sent; and
    openpyxl, which only reads a sent notice back, stays out."""
    _, loaded = imported(ledger, "notice", "monthly", "--month", "2025-06", "--out", str(tmp_path / "n"))
    assert loaded == {"xlsxwriter", "docx", "jinja2"}
    assert sorted(p.suffix for p in (tmp_path / "n").iterdir()) == [".docx", ".html", ".txt", ".xlsx"]


def test_the_year_report_loads_xlsxwriter_only_to_export(ledger: Path, tmp_path: Path) -> None:
    """`report year` prints the year's figures without any workbook library; `--out` loads
    XlsxWriter to write the .xlsx, and openpyxl not at all."""
    output, loaded = imported(ledger, "report", "year", "2025")
    assert "危化科" in output
    assert loaded == set()
    _, loaded = imported(ledger, "report", "year", "2025", "--out", str(tmp_path / "year.xlsx"))
    assert loaded == {"xlsxwriter"}
    assert (tmp_path / "year.xlsx").stat().st_size > 0


def test_a_command_pauses_the_collector_and_leaves_it_running(
    ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scores are computed with the cyclic collector paused; run in-process (as tests and the
    office's scripts may), the command leaves it collecting afterwards."""
    import scoring.engine
    from daemon.cli import app

    seen: list[bool] = []
    score_month = scoring.engine.score_month

    def spy(**kwargs: object) -> object:
        seen.append(gc.isenabled())
        return score_month(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scoring.engine, "score_month", spy)
    assert gc.isenabled()
    result = CliRunner().invoke(app, ["--config", str(ledger), "scores", "--month", "2025-06", "--json"])
    assert result.exit_code == 0, result.output
    assert seen == [False]
    assert gc.isenabled()


def test_the_daemons_scheduled_notice_keeps_collecting(ledger: Path) -> None:
    """The daemon builds the monthly notice in its own long-lived process: the collector is on
    after it and nothing of the process was frozen out of its reach."""
    from daemon.config import load_config

    config = load_config(ledger)
    engine = make_engine(config.database_url())
    frozen = gc.get_freeze_count()
    try:
        queued = run_due(engine, config, now=datetime(2025, 7, 1, 9, 30, tzinfo=CST))
    finally:
        engine.dispose()
    assert "2025-06" in queued
    assert gc.isenabled()
    # Frozen objects may be freed meanwhile; freezing would have added every object alive.
    assert gc.get_freeze_count() <= frozen
