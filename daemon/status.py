"""`xinbao status`: the mailbox cursor, the backlog, what needs the office, the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import col, select

from daemon.config import Config
from daemon.db import session
from daemon.models import Message, MessageState, PollState
from outbox.table import Outbox


def read_status(engine: Engine, config: Config) -> dict[str, Any]:
    with session(engine, readonly=True) as s:
        cursor = s.get(PollState, (config.mailbox.user, config.mailbox.folder))
        states = dict(s.exec(select(Message.state, func.count()).group_by(Message.state)).all())
        outbox = dict(s.exec(select(Outbox.state, func.count()).group_by(Outbox.state)).all())
        unacked = s.exec(
            select(func.count()).where(
                col(Message.server_done).is_(False),
                col(Message.state).in_([MessageState.RECORDED, MessageState.REJECTED, MessageState.IGNORED]),
            )
        ).one()
    return {
        "mailbox": config.mailbox.user,
        "folder": config.mailbox.folder,
        "last_success_at": cursor.last_success_at.isoformat() if cursor and cursor.last_success_at else None,
        "last_uid": cursor.last_uid if cursor else 0,
        "consecutive_failures": cursor.consecutive_failures if cursor else 0,
        "last_error": cursor.last_error if cursor else None,
        "backlog": states.get(MessageState.FETCHED, 0),
        "unacknowledged": unacked,
        "quarantined": states.get(MessageState.QUARANTINED, 0),
        "poison": states.get(MessageState.POISON, 0),
        "messages": {str(k): v for k, v in states.items()},
        "outbox": {
            "pending": outbox.get("pending", 0) + outbox.get("sending", 0),
            "failed": outbox.get("failed", 0),
            "ambiguous": outbox.get("ambiguous", 0),
            "sent": outbox.get("sent", 0),
        },
    }


def describe_status(info: dict[str, Any]) -> str:
    outbox = info["outbox"]
    lines = [
        f"报送邮箱：{info['mailbox']}（{info['folder']}）",
        f"最近一次成功收信：{info['last_success_at'] or '从未成功'}",
        f"待处理邮件：{info['backlog']} 封；已处理待在邮箱中标记：{info['unacknowledged']} 封",
        f"已隔离：{info['quarantined']} 封；多次失败已停止处理：{info['poison']} 封",
        f"待发邮件：{outbox['pending']} 封；发送失败：{outbox['failed']} 封；状态不明：{outbox['ambiguous']} 封",
    ]
    if info["consecutive_failures"]:
        lines.append(f"收信已连续失败 {info['consecutive_failures']} 次：{info['last_error']}")
    return "\n".join(lines)
