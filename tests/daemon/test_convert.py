"""LibreOffice turns the .doc and .wps drafts county bureaus still send into .docx we can read."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docx
import pytest

from daemon.convert import LibreOfficeConverter
from parsers.draft import DraftResult, read_draft
from parsers.types import Author, Code, Limits

CONVERTER = LibreOfficeConverter()
CORPUS = Path("/work/shared/corpus/real/docx")
TITLE = "盘山县应急管理局开展汛期防洪应急演练"
requires_soffice = pytest.mark.skipif(
    not CONVERTER.available(), reason="LibreOffice (soffice) is not installed"
)


def _docx() -> bytes:
    doc = docx.Document()
    doc.add_heading(TITLE, level=1)
    doc.add_paragraph("7月8日，盘山县应急管理局组织开展汛期防洪应急演练，检验了应急预案的可操作性。")
    doc.add_paragraph("撰稿人：盘山县应急管理局（办公室）李娜")
    doc.add_paragraph("初审人：刘洋\u3000\u3000复审人：陈静")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def legacy_doc(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A Word 97 .doc of a county bureau's draft, written by LibreOffice itself."""
    if not CONVERTER.available():
        pytest.skip("LibreOffice (soffice) is not installed")
    work = tmp_path_factory.mktemp("legacy")
    (work / "draft.docx").write_bytes(_docx())
    subprocess.run(
        [
            CONVERTER.soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            "doc",
            "--outdir",
            str(work),
            str(work / "draft.docx"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = (work / "draft.doc").read_bytes()
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    return data


@pytest.mark.libreoffice
@requires_soffice
def test_a_doc_draft_keeps_its_title_and_signoff(legacy_doc: bytes) -> None:
    """A county bureau's .doc is converted and read in full: title, co-author unit, reviewers."""
    result = read_draft(legacy_doc, source="稿件.doc", images=1, limits=Limits(), convert=CONVERTER)
    assert result.problems == ()
    assert result.draft is not None
    assert result.draft.title == TITLE
    assert result.draft.signoff.authors == (Author("李娜", "盘山县应急管理局（办公室）"),)
    assert (result.draft.signoff.first_reviewer, result.draft.signoff.second_reviewer) == ("刘洋", "陈静")


def _legacy_corpus() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.read_bytes()[:4] == b"\xd0\xcf\x11\xe0")


EXPECTED = {
    "poi__61490_chinese_word97.doc": "居中的大标题",
    "poi__TestChineseProperties.doc": "Yahoo",
    "hunnysoft__biodiversite_word97.doc": "Biodiversité",
    "wps__kingsoft_wps_writer_fastsaved.wps": "电话号码",
    "tika__testWORKS_msworks.wps": "Microsoft Works",
}


@pytest.fixture(scope="module")
def legacy_corpus() -> dict[str, DraftResult]:
    """Every real .doc/.wps read through LibreOffice, three at once as parse workers may run."""
    if not CONVERTER.available():
        pytest.skip("LibreOffice (soffice) is not installed")

    def read(path: Path) -> DraftResult:
        return read_draft(path.read_bytes(), source=path.name, images=0, limits=Limits(), convert=CONVERTER)

    paths = _legacy_corpus()
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip((p.name for p in paths), pool.map(read, paths), strict=True))


@pytest.mark.parametrize("path", _legacy_corpus(), ids=lambda p: p.name)
@pytest.mark.libreoffice
@requires_soffice
def test_real_legacy_files(path: Path, legacy_corpus: dict[str, DraftResult]) -> None:
    """Real Word 97, Kingsoft WPS (fast-saved) and MS Works files convert and yield their text."""
    result = legacy_corpus[path.name]
    assert result.draft is not None
    text = "\n".join((result.draft.title, *result.draft.body))
    assert EXPECTED[path.name] in text


LIMITED_WORKER = """
import resource, sys
from pathlib import Path
from daemon.convert import LibreOfficeConverter
resource.setrlimit(resource.RLIMIT_AS, (200 * 1024 * 1024, resource.getrlimit(resource.RLIMIT_AS)[1]))
out = LibreOfficeConverter()(Path(sys.argv[1]).read_bytes(), suffix=".doc")
print(out is not None and out[:2] == b"PK", resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)
"""


@pytest.mark.libreoffice
@requires_soffice
def test_conversion_inside_a_memory_limited_worker(legacy_doc: bytes, tmp_path: Path) -> None:
    """A parse worker capped at 200 MB (daemon.guard) still converts: soffice gets the cap lifted."""
    (tmp_path / "draft.doc").write_bytes(legacy_doc)
    done = subprocess.run(
        [sys.executable, "-c", LIMITED_WORKER, str(tmp_path / "draft.doc")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    # Converted, and the worker itself is still under its own limit.
    assert done.stdout.split() == ["True", "200"]


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(proc.name))
    return found


@pytest.mark.libreoffice
@requires_soffice
def test_a_conversion_past_its_timeout_is_killed(
    legacy_doc: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A hung LibreOffice is killed with its children; nothing is left running or on disk."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="daemon.convert"):
        assert LibreOfficeConverter(timeout=0.01)(legacy_doc, suffix=".doc") is None
    assert "longer than" in caplog.text
    assert _processes_mentioning(str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == []


HUNG_SOFFICE = """#!/bin/sh
# Like soffice: a launcher whose child does the work; this one never finishes.
sh -c 'sleep 60; true' child "$@" >/dev/null 2>&1 &
sleep 60
true
"""


def test_a_hung_conversion_is_killed_with_its_children(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When LibreOffice hangs, the launcher and the process it started are both killed."""
    fake = tmp_path_factory.mktemp("bin") / "soffice"
    fake.write_text(HUNG_SOFFICE)
    fake.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert LibreOfficeConverter(soffice=str(fake), timeout=1.0)(b"\xd0\xcf\x11\xe0", suffix=".doc") is None
    assert _processes_mentioning(str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == []


def test_without_libreoffice_conversion_reports_and_returns_none(caplog: pytest.LogCaptureFixture) -> None:
    """A server without LibreOffice answers None (the draft is then “unsupported”), with a log line."""
    converter = LibreOfficeConverter(soffice="/nonexistent/soffice")
    assert not converter.available()
    with caplog.at_level(logging.WARNING, logger="daemon.convert"):
        assert converter(b"\xd0\xcf\x11\xe0", suffix=".doc") is None
    assert "not found" in caplog.text
    result = read_draft(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", source="稿件.doc", images=0, limits=Limits(), convert=converter
    )
    assert [p.code for p in result.problems] == [Code.UNSUPPORTED_FORMAT]
