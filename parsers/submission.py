"""One submission email in, a ParsedMessage out: MIME, then archives, then each draft.

Photos count for the draft they travelled with: the images of the same archive, and within an
archive those of the draft's own folder (a zip holding two drafts in two folders gives each its
own photos). Bare attachments form one group of their own.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from parsers.archive import expand, is_archive
from parsers.draft import read_draft
from parsers.message import Envelope, read_message
from parsers.types import Code, Converter, Draft, FileEntry, Limits, ParsedMessage, Problem, problem

DRAFT_SUFFIXES = (".docx", ".doc", ".wps", ".docm", ".dotx", ".dot", ".wpt")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif")
# Formats a publicist might send as the draft itself, which we cannot score.
OTHER_DOCUMENT_SUFFIXES = (
    ".pdf",
    ".txt",
    ".rtf",
    ".odt",
    ".pages",
    ".html",
    ".htm",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
)


# Office commands are a few hundred lines at most; a body beyond this is not a command.
_MAX_BODY = 200_000
# A header read on its own is cut here (the rest of a hostile one says nothing we need).
_MAX_HEADER = 256 * 1024


@dataclass(frozen=True)
class _Group:
    """The files that travelled together: one top-level archive, or the bare attachments."""

    name: str
    files: tuple[FileEntry, ...]


def parse_message(
    raw: bytes, *, limits: Limits, convert: Converter | None = None, rar: bool = True
) -> ParsedMessage:
    """Read a submission email completely; every problem is a value in the result."""
    env = read_message(raw, limits=limits)
    problems: list[Problem] = list(env.problems)
    drafts: list[Draft] = []
    if not env.auto_reply:
        groups = _groups(env.attachments, limits=limits, rar=rar, problems=problems)
        for group in groups:
            drafts.extend(_read_group(group, limits=limits, convert=convert, problems=problems))
        if not env.attachments:
            problems.append(problem(Code.NO_ATTACHMENT))
        elif not drafts and not any(p.blocking for p in problems):
            problems.append(problem(Code.NO_DRAFT))
    return _parsed(env, drafts=tuple(drafts), problems=tuple(problems), body=env.body_text[:_MAX_BODY])


def header_only(raw: bytes, *, limits: Limits, trouble: Problem) -> ParsedMessage:
    """What the header alone says, with the one problem that stopped the reading (a message too
    large to fetch, a parse the guard had to end): enough to answer the sender precisely."""
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    head = raw[: min(end if end >= 0 else len(raw), _MAX_HEADER)] + b"\r\n\r\n"
    return _parsed(read_message(head, limits=limits), problems=(trouble,), complete=False)


def _parsed(env: Envelope, **rest: Any) -> ParsedMessage:
    return ParsedMessage(
        message_id=env.message_id,
        from_addr=env.from_addr,
        from_name=env.from_name,
        subject=env.subject,
        date=env.date,
        auto_reply=env.auto_reply,
        in_reply_to=env.in_reply_to,
        references=env.references,
        reply_to=env.reply_to,
        **rest,
    )


def _suffix(path: str) -> str:
    return posixpath.splitext(path.lower())[1]


def _groups(
    attachments: Sequence[FileEntry], *, limits: Limits, rar: bool, problems: list[Problem]
) -> list[_Group]:
    bare: list[FileEntry] = []
    groups: list[_Group] = []
    for att in attachments:
        # A .docx is a zip too; only real archives are opened here.
        if _suffix(att.path) not in DRAFT_SUFFIXES and is_archive(att.data):
            expanded = expand(att, limits=limits, rar=rar)
            problems.extend(expanded.problems)
            groups.append(_Group(att.path, expanded.files))
        else:
            bare.append(att)
    if bare:
        groups.insert(0, _Group("", tuple(bare)))
    return groups


def _read_group(
    group: _Group, *, limits: Limits, convert: Converter | None, problems: list[Problem]
) -> list[Draft]:
    draft_files = [f for f in group.files if _suffix(f.path) in DRAFT_SUFFIXES]
    images = [f for f in group.files if _suffix(f.path) in IMAGE_SUFFIXES]
    if not draft_files:
        others = [f for f in group.files if _suffix(f.path) in OTHER_DOCUMENT_SUFFIXES]
        for f in others:
            kind = _suffix(f.path).lstrip(".").upper()
            problems.append(
                problem(Code.UNSUPPORTED_FORMAT, source=f.path, name=_basename(f.path), detail=f"{kind} 文件")
            )
        if group.name and not others:
            problems.append(problem(Code.NO_DRAFT, source=group.name, name=_basename(group.name)))
        return []
    counts = _photo_counts([f.path for f in draft_files], [f.path for f in images])
    drafts: list[Draft] = []
    for f in draft_files:
        result = read_draft(f.data, source=f.path, images=counts[f.path], limits=limits, convert=convert)
        problems.extend(result.problems)
        if result.draft is not None:
            drafts.append(result.draft)
    return drafts


def _basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) or path


def _photo_counts(drafts: Sequence[str], images: Sequence[str]) -> dict[str, int]:
    """Give each photo to the draft in the deepest folder that contains it.

    Several drafts in that folder: the one whose file name shares the photo's name stem, else the
    first of them (a publicist who zips two drafts flat together rarely labels the photos).
    """
    counts = dict.fromkeys(drafts, 0)
    for image in images:
        owners = [d for d in drafts if _contains(posixpath.dirname(d), image)]
        if not owners:
            owners = list(drafts)
        depth = max(posixpath.dirname(d).count("/") + bool(posixpath.dirname(d)) for d in owners)
        deepest = [d for d in owners if posixpath.dirname(d).count("/") + bool(posixpath.dirname(d)) == depth]
        stem = posixpath.splitext(posixpath.basename(image))[0]
        named = [d for d in deepest if _shares_stem(d, stem)]
        counts[(named or deepest)[0]] += 1
    return counts


def _contains(folder: str, path: str) -> bool:
    return not folder or path.startswith(folder + "/")


def _shares_stem(draft: str, image_stem: str) -> bool:
    draft_stem = posixpath.splitext(posixpath.basename(draft))[0]
    return bool(draft_stem) and (image_stem.startswith(draft_stem) or draft_stem.startswith(image_stem))
