"""Records the parsers return, the problem catalogue, and the limits they obey.

Everything here is frozen: parser output is a value that the daemon stores and the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Code(StrEnum):
    """The closed list of problem codes of DESIGN.md; add new ones there first."""

    NO_ATTACHMENT = "no_attachment"
    NO_DRAFT = "no_draft"
    UNREADABLE_ARCHIVE = "unreadable_archive"
    ENCRYPTED_ARCHIVE = "encrypted_archive"
    ARCHIVE_LIMITS_EXCEEDED = "archive_limits_exceeded"
    UNSAFE_PATH = "unsafe_path"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNREADABLE_DRAFT = "unreadable_draft"
    MISSING_AUTHOR = "missing_author"
    MISSING_FIRST_REVIEWER = "missing_first_reviewer"
    MISSING_SECOND_REVIEWER = "missing_second_reviewer"
    UNKNOWN_SENDER = "unknown_sender"
    UNKNOWN_UNIT = "unknown_unit"
    TOO_SHORT = "too_short"
    DUPLICATE = "duplicate"
    TOO_LARGE = "too_large"
    UNKNOWN_COLUMN = "unknown_column"


@dataclass(frozen=True)
class ProblemKind:
    """A catalogue entry: the Chinese message template and how the sender fixes it."""

    code: Code
    template: str
    fix: str
    # Whether the problem stops the draft from counting (a rejection) or is only reported.
    blocking: bool = True
    # The wording when no file is named: the problem is about the mail as a whole.
    unnamed: str = ""


# Templates take `{name}` (the file or draft title) and `{detail}`; both may be empty.
CATALOGUE: dict[Code, ProblemKind] = {
    k.code: k
    for k in (
        ProblemKind(
            Code.NO_ATTACHMENT, "邮件没有附件", "请将稿件（.docx）和照片压缩为一个 zip 压缩包，作为附件发送"
        ),
        ProblemKind(
            Code.NO_DRAFT,
            "附件{name}中没有找到稿件（.docx 文档）",
            "请在压缩包中放入 Word 稿件（.docx），照片可一并放入",
        ),
        ProblemKind(
            Code.UNREADABLE_ARCHIVE,
            "压缩包{name}无法打开{detail}",
            "压缩包可能已损坏，请重新压缩（建议使用 zip 格式）后再发送",
        ),
        ProblemKind(
            Code.ENCRYPTED_ARCHIVE,
            "压缩包{name}设置了密码，无法读取",
            "请去掉压缩密码，重新压缩后再发送",
        ),
        ProblemKind(
            Code.ARCHIVE_LIMITS_EXCEEDED,
            "压缩包{name}超出处理限制{detail}",
            "请只放入本篇稿件及其照片，照片可适当压缩；不要在压缩包中再套多层压缩包",
            unnamed="邮件超出系统处理限制{detail}",
        ),
        ProblemKind(
            Code.UNSAFE_PATH,
            "压缩包中的文件{name}路径不安全，已忽略{detail}",
            "请直接压缩稿件和照片，不要包含快捷方式、绝对路径或“..”路径",
        ),
        ProblemKind(
            Code.UNSUPPORTED_FORMAT,
            "文件{name}的格式无法处理{detail}",
            "请将稿件另存为 .docx 格式，并使用 zip 压缩",
            unnamed="邮件格式无法处理{detail}",
        ),
        ProblemKind(
            Code.UNREADABLE_DRAFT,
            "稿件{name}无法读取{detail}",
            "文件可能已损坏或并非 Word 文档，请用 Word 或 WPS 重新另存为 .docx 后再发送",
        ),
        ProblemKind(
            Code.MISSING_AUTHOR,
            "稿件{name}缺少撰稿人",
            "请在文末写明“撰稿人：单位（科室）姓名”，多人合写请用顿号分隔",
        ),
        ProblemKind(
            Code.MISSING_FIRST_REVIEWER,
            "稿件{name}缺少初审人",
            "请在文末写明“初审人：姓名”（由科室负责人初审）",
        ),
        ProblemKind(
            Code.MISSING_SECOND_REVIEWER,
            "稿件{name}缺少复审人",
            "请在文末写明“复审人：姓名”（由科室分管领导复审）",
        ),
        ProblemKind(
            Code.UNKNOWN_SENDER,
            "发件邮箱{name}未登记为信息宣传员邮箱",
            "请使用本单位登记的宣传员邮箱发送，或联系局办公室登记（附件4 信息宣传员登记表）",
        ),
        ProblemKind(
            Code.UNKNOWN_UNIT,
            "撰稿人单位{name}无法识别",
            "请写明单位（科室）的全称或通用简称，例如“撰稿人：危化科 王强”",
        ),
        ProblemKind(
            Code.TOO_SHORT,
            "稿件{name}字数不足{detail}",
            "调研类、经验类信息不得少于2000字，请补充后重新报送",
        ),
        ProblemKind(
            Code.DUPLICATE,
            "稿件{name}此前已报送过，本次不重复计数",
            "无需再次发送；如需修改，请回复退稿邮件或在标题中注明修改后重发",
            blocking=False,
        ),
        ProblemKind(
            Code.UNKNOWN_COLUMN,
            "栏目{name}不存在{detail}",
            "请在标题中用【栏目名】注明栏目，或在稿件中写一行“栏目：栏目名”，栏目名须与上列栏目之一完全相同",
        ),
        ProblemKind(
            Code.TOO_LARGE,
            "邮件过大{detail}，未能接收",
            "请压缩照片（每张建议不超过 5 MB），或分多封邮件发送",
        ),
    )
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a submission, as a value: a code, a Chinese message, and where."""

    code: Code
    message: str
    source: str = ""

    @property
    def fix(self) -> str:
        return CATALOGUE[self.code].fix

    @property
    def blocking(self) -> bool:
        return CATALOGUE[self.code].blocking

    def to_json(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message, "source": self.source}


def problem(code: Code, *, source: str = "", name: str = "", detail: str = "") -> Problem:
    """Build a Problem from the catalogue; `name` is shown in 《》 or “” as the template needs."""
    kind = CATALOGUE[code]
    shown = f"《{name}》" if name and code in _TITLED else (f"“{name}”" if name else "")
    template = kind.unnamed if kind.unnamed and not name else kind.template
    text = template.format(name=shown, detail=f"（{detail}）" if detail else "")
    return Problem(code=code, message=text, source=source)


# Problems about a draft name it by title in 《》; the others quote a file or address.
_TITLED = frozenset(
    {
        Code.MISSING_AUTHOR,
        Code.MISSING_FIRST_REVIEWER,
        Code.MISSING_SECOND_REVIEWER,
        Code.TOO_SHORT,
        Code.DUPLICATE,
    }
)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one message; all configurable under `[limits]` in config.toml."""

    max_message_bytes: int = 50 * 1024 * 1024
    max_mime_parts: int = 500
    max_archive_members: int = 200
    max_member_bytes: int = 100 * 1024 * 1024
    max_total_bytes: int = 300 * 1024 * 1024
    max_ratio: float = 200.0
    max_depth: int = 2
    # A parse that takes longer, or more memory, than this is stopped by the guard (daemon.guard).
    max_seconds: float = 60.0
    max_memory_bytes: int = 1024 * 1024 * 1024
    convert_timeout: float = 60.0


@dataclass(frozen=True)
class Author:
    """One 撰稿人: a name and, when written, the unit (单位/科室) as the draft spells it."""

    name: str
    unit: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"unit": self.unit, "name": self.name}


@dataclass(frozen=True)
class Signoff:
    """The sign-off block of a draft (附件3): authors, first and second reviewer."""

    authors: tuple[Author, ...] = ()
    first_reviewer: str | None = None
    second_reviewer: str | None = None


@dataclass(frozen=True)
class Draft:
    """One article found in a message, with what the sign-off says and the photos beside it."""

    source: str
    title: str
    chars: int
    signoff: Signoff
    images: int
    # SHA-256 of the normalised body text: the same article sent twice hashes the same.
    text_hash: str
    # The body paragraphs (title and sign-off excluded), kept for later rules (栏目： lines, length).
    body: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "chars": self.chars,
            "authors": [a.to_json() for a in self.signoff.authors],
            "first_reviewer": self.signoff.first_reviewer,
            "second_reviewer": self.signoff.second_reviewer,
            "images": self.images,
        }


@dataclass(frozen=True)
class ParsedMessage:
    """What one email says: headers decoded, drafts read, problems listed."""

    message_id: str
    from_addr: str
    from_name: str
    subject: str
    # ISO 8601 of the Date header, or "" when missing or unparseable.
    date: str
    auto_reply: bool
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    reply_to: str = ""
    drafts: tuple[Draft, ...] = ()
    problems: tuple[Problem, ...] = ()
    # False when the resource guard stopped the parse: only the headers were read.
    complete: bool = True
    # The plain-text body: office commands (an adoption bulletin, a 明细 request) are written there.
    body: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "from": self.from_addr,
            "subject": self.subject,
            "date": self.date or None,
            "auto_reply": self.auto_reply,
            "drafts": [d.to_json() for d in self.drafts],
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass(frozen=True)
class FileEntry:
    """A file found in the message: an attachment or an archive member, with its display path."""

    path: str
    data: bytes = field(repr=False)


class Converter(Protocol):
    """Turns a legacy word-processor file (.doc, .wps) into .docx bytes; None when it cannot.

    The real one (daemon.convert) runs LibreOffice headless; parsers only see this seam.
    """

    def __call__(self, data: bytes, *, suffix: str) -> bytes | None: ...
