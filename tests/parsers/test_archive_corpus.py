"""The real-world archive corpus: what each file yields, and that none of them raises.

The expected outcomes below are the acceptance table for archives written by other tools
(see /work/shared/corpus/real/SOURCES.md for where each file comes from).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from parsers.archive import expand
from parsers.types import Code, FileEntry, Limits

CORPUS = Path("/work/shared/corpus/real")
HAS_UNAR = shutil.which("unar") is not None

U, E, L, S, R = (
    Code.UNREADABLE_ARCHIVE,
    Code.ENCRYPTED_ARCHIVE,
    Code.ARCHIVE_LIMITS_EXCEEDED,
    Code.UNSAFE_PATH,
    Code.UNSUPPORTED_FORMAT,
)

# file: (member paths returned, problem codes in order)
EXPECTED: dict[str, tuple[list[str], list[Code]]] = {
    "archives/admzip__chs_name_gbk.zip": (["中文路径.txt"], []),
    "archives/zip4j__chinese_filename_by_7zip_gbk.zip": (["fff - 副本.txt", "fff.txt"], []),
    "archives/tika__gbk_dir_with_doc.zip": (
        ["审计压缩包文件检索测试/集团邮件审计系统2021年自动巡检需求文档_V4.0.doc"],
        [],
    ),
    # The 16 control bytes of the header name are replaced by the one valid 0x7075 field.
    "archives/yauzl__unicode_path_extra_field.zip": (["七个房间.txt"], []),
    # CP932 read as GB18030: wrong but harmless characters, and both files kept.
    "archives/libarchive__zip_filename_cp932.zip": (["昞偩傛/堦棗昞.txt", "昞偩傛/娍帤.txt"], []),
    "archives/recursiveextractor__TestData.7z": (
        ["TestData/Foo/Bar/Lorem.txt", "TestData/Foo/Lorem.txt", "TestData/Lorem.txt"],
        [],
    ),
    "archives/libarchive__rar4_unicode_cjk_names.rar": (
        [
            "表だよ/新しいフォルダ/新規テキスト ドキュメント.txt",
            "表だよ/漢字長いファイル名long-filename-in-漢字.txt",
            "abcdefghijklmnopqrsテスト.txt",
        ],
        [S],  # 表だよ/ファイル is a symlink
    ),
    "archives/libarchive__rar5_zip_in_rar.rar": (
        ["payload/inner.zip/THIS_IS_INSIDE_THE_ZIP.txt", "payload/real_after.txt"],
        [],
    ),
    "archives/recursiveextractor__TestData.rar": (
        ["TestData/Foo/Bar/Lorem.txt", "TestData/Foo/Lorem.txt", "TestData/Lorem.txt"],
        [],
    ),
    "archives/recursiveextractor__TestDataEncrypted.rar": ([], [E]),
    # Only the local header's copy of the CRC is wrong (0xFFFFFFFF); the data matches the
    # central directory's CRC, which is the one zipfile checks, so the member is sound.
    "hostile/admzip__bad_crc.zip": (["lorem_ipsum.txt"], []),
    "hostile/admzip__symlink.zip": (["symlink/target"], [S]),
    "hostile/libarchive__zip_symlink.zip": (["file"], [S]),
    "hostile/zip4j__links_to_dir.zip": (["c"], [S, S]),
    "hostile/libarchive__7z_symlink.7z": (["file1"], [S]),
    "hostile/libarchive__rar5_symlinks.rar": (["file.txt"], [S, S]),
    "hostile/libarchive__zip_malformed1.zip": ([], [U]),
    "hostile/recursiveextractor__zbsm_overlap_bomb.zip": ([], [L]),
    # The quine holds itself: level 2 is read, level 3 is refused by depth.
    "hostile/tika__droste_quine.zip": (["droste.jpg", "droste.zip/droste.jpg"], [L]),
    "hostile/snyk__zip-slip.zip": (["good.txt"], [S]),
    "hostile/snyk__zip-slip-win.zip": (["good.txt"], [S]),
    "hostile/yauzl__absolute_path_C_colon.zip": (["b.txt"], [S]),
    "hostile/yauzl__absolute_path_slash.zip": (["b.txt"], [S]),
    "hostile/yauzl__relative_path_dotdot.zip": (["b.txt"], [S]),
    # "a\txt" is a safe "a/txt", but the local header says "a.txt": a hand-edited directory.
    "hostile/yauzl__backslash_in_name.zip": (["b.txt"], [U]),
    # sample_text1.txt appears twice; the first is kept.
    "hostile/zip4j__duplicate_entries.zip": (["sample_text1.txt", "sample_text_large.txt", "sample.pdf"], []),
}


def _corpus_files() -> list[str]:
    found = sorted(
        str(p.relative_to(CORPUS))
        for folder in ("archives", "hostile")
        for p in (CORPUS / folder).glob("*")
        if p.suffix in (".zip", ".7z", ".rar")
    )
    return found


def _params() -> list[object]:
    return [
        pytest.param(
            name,
            marks=[
                pytest.mark.unar,
                pytest.mark.skipif(not HAS_UNAR, reason="Debian's unar is not installed"),
            ],
        )
        if name.endswith(".rar")
        else name
        for name in EXPECTED
    ]


pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def test_the_table_covers_every_archive_of_the_corpus() -> None:
    """A new corpus file must get its expected outcome written down here."""
    assert sorted(EXPECTED) == _corpus_files()


@pytest.mark.parametrize("name", _params())
def test_corpus_archive_outcome(name: str) -> None:
    """Each real archive yields exactly the files and problems of the table."""
    data = (CORPUS / name).read_bytes()
    top = Path(name).name
    result = expand(FileEntry(top, data), limits=Limits())
    files, problems = EXPECTED[name]
    assert [f.path for f in result.files] == [f"{top}/{p}" for p in files]
    assert [p.code for p in result.problems] == problems
    assert all(p.message and p.source.startswith(top) for p in result.problems)


@pytest.mark.parametrize("name", [n for n in EXPECTED if n.endswith(".rar")])
def test_corpus_rar_without_a_backend_is_unsupported(name: str) -> None:
    """Without unar every RAR, even an encrypted one, gets the same advice: use zip."""
    result = expand(FileEntry("稿件.rar", (CORPUS / name).read_bytes()), limits=Limits(), rar=False)
    assert result.files == ()
    assert [p.code for p in result.problems] == [R]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_corpus_archive_under_tight_limits_never_raises(name: str) -> None:
    """With every limit tiny, each file still gives values: problems, not exceptions."""
    tight = Limits(
        max_archive_members=1, max_member_bytes=100, max_total_bytes=200, max_ratio=2.0, max_depth=1
    )
    result = expand(FileEntry("x", (CORPUS / name).read_bytes()), limits=tight, rar=HAS_UNAR)
    assert len(result.files) <= 1  # one member per archive, no nesting
    assert sum(len(f.data) for f in result.files) <= 200
