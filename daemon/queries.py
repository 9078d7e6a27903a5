"""Read-only views of the ledger for the CLI: submissions with their authors and problems."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from daemon.db import session
from daemon.models import ProblemRecord, Submission, SubmissionAuthor, Unit
from scoring.periods import SHANGHAI, Period


def submissions(
    engine: Engine, *, period: Period | None = None, unit: str | None = None
) -> list[dict[str, Any]]:
    """`submissions --json` rows (DESIGN.md), oldest first."""
    with session(engine, readonly=True) as s:
        units = {u.id: u.name for u in s.exec(select(Unit))}
        stmt = select(Submission).order_by(col(Submission.received_at), col(Submission.id))
        if period is not None:
            stmt = stmt.where(Submission.received_at >= period.start, Submission.received_at < period.end)
        if unit is not None:
            ids = [i for i, name in units.items() if name == unit]
            stmt = stmt.where(col(Submission.unit_id).in_(ids))
        subs = list(s.exec(stmt))
        ids = [x.id for x in subs]
        authors: dict[int, list[dict[str, str | None]]] = defaultdict(list)
        for a in s.exec(
            select(SubmissionAuthor)
            .where(col(SubmissionAuthor.submission_id).in_(ids))
            .order_by(col(SubmissionAuthor.submission_id), col(SubmissionAuthor.position))
        ):
            authors[a.submission_id].append(
                {"unit": units.get(a.unit_id) or a.unit_text or None, "name": a.name}
            )
        problems: dict[int, list[dict[str, str]]] = defaultdict(list)
        for p in s.exec(select(ProblemRecord).where(col(ProblemRecord.submission_id).in_(ids))):
            assert p.submission_id is not None
            problems[p.submission_id].append({"code": p.code, "message": p.message, "source": p.source})
    return [
        {
            "id": x.id,
            "unit": units.get(x.unit_id),
            "title": x.title,
            "authors": authors.get(x.id or 0, []),
            "first_reviewer": x.first_reviewer,
            "second_reviewer": x.second_reviewer,
            "received_at": _local(x.received_at),
            "status": x.status.value,
            "category": x.category,
            "chars": x.chars,
            "images": x.images,
            "sender": x.sender,
            "replaces": x.replaces_id,
            "problems": problems.get(x.id or 0, []),
        }
        for x in subs
    ]


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat()
