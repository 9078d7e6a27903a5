"""A small bureau for end-to-end tests: a config pointing at the test Dovecot and SMTP server,
and the mail its publicists send (built in code with daemon.samples)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from daemon.config import Config, parse_config
from daemon.embedded import provider_stamp
from daemon.samples import make_docx, make_jpeg, make_submission_email, make_zip
from tests.dovecot import Account
from tests.smtpserver import LOGIN as SMTP_LOGIN
from tests.smtpserver import PASSWORD as SMTP_PASSWORD
from tests.smtpserver import SmtpServer

CST = timezone(timedelta(hours=8))
OFFICE = "office@pjyjj.example.cn"
PUBLICISTS = {
    "危化科": ("王强", "wangqiang.wh@163.com"),
    "盘山县应急管理局": ("李娜", "psxyjj_xx@163.com"),
    "综合行政执法队": ("赵敏", "zhaomin.zf@163.com"),
}
UNITS = [
    {"name": "危化科", "group": "department", "aliases": ["危险化学品安全监督管理科"]},
    {"name": "盘山县应急管理局", "group": "county", "aliases": ["盘山县应急局"]},
    {"name": "综合行政执法队", "group": "department", "aliases": ["执法支队"]},
]
BODY = [
    "6月19日，市应急局组织开展危化企业专项检查，共检查企业12家，发现并督促整改隐患23项。",
    "检查组重点查看了重大危险源管控、特殊作业审批和应急预案演练情况。",
]


def config_for(
    tmp: Path,
    account: Account,
    smtp: SmtpServer,
    *,
    imap_port: int | None = None,
    db_url: str | None = None,
    **mailbox: Any,
) -> Config:
    """A config for this test's mailbox, SMTP server and ledger (SQLite under `tmp` by default)."""
    data = config_data(tmp, account, smtp, imap_port=imap_port, db_url=db_url, **mailbox)
    return parse_config(data, path=tmp / "config.toml")


def config_data(
    tmp: Path,
    account: Account,
    smtp: SmtpServer,
    *,
    imap_port: int | None = None,
    db_url: str | None = None,
    **mailbox: Any,
) -> dict[str, Any]:
    """The config as decoded TOML, for tests that write a config.toml and run `xinbao`."""
    return {
        "mailbox": {
            "host": "127.0.0.1",
            "port": imap_port or account.port,
            "tls": False,
            "user": account.user,
            "password_env": "XINBAO_TEST_IMAP_PASSWORD",
            "poll_seconds": 1,
            "timeout_seconds": 10.0,
            **mailbox,
        },
        "smtp": {
            "host": smtp.host,
            "port": smtp.port,
            "tls": False,
            "user": SMTP_LOGIN,
            "password_env": "XINBAO_TEST_SMTP_PASSWORD",
        },
        "database": {"url": db_url or f"sqlite:///{tmp / 'xinbao.db'}", "raw_store": str(tmp / "raw")},
        "office": {"name": "盘锦市应急管理局办公室", "emails": [OFFICE]},
        "units": UNITS,
        "publicists": [{"unit": u, "name": n, "email": e} for u, (n, e) in PUBLICISTS.items()],
    }


def environment(account: Account) -> dict[str, str]:
    return {"XINBAO_TEST_IMAP_PASSWORD": account.password, "XINBAO_TEST_SMTP_PASSWORD": SMTP_PASSWORD}


def toml_for(config_data: dict[str, Any]) -> str:
    """The same config as a config.toml file, for tests that run the `xinbao` command."""
    lines: list[str] = []
    for section in ("mailbox", "smtp", "database", "office"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml(v)}" for k, v in config_data[section].items()]
    for table in ("units", "publicists"):
        for row in config_data[table]:
            lines.append(f"[[{table}]]")
            lines += [f"{k} = {_toml(v)}" for k, v in row.items()]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


@dataclass
class Draft:
    """One article a publicist writes."""

    title: str
    signoff: Sequence[str] = ("撰稿人：危化科 王强", "初审人：刘洋    复审人：陈静")
    body: Sequence[str] = field(default_factory=lambda: list(BODY))
    photos: int = 2

    def files(self, folder: str = "") -> list[tuple[str, bytes]]:
        prefix = f"{folder}/" if folder else ""
        docx = make_docx(title=self.title, paragraphs=self.body, signoff_lines=self.signoff)
        photos = [(f"{prefix}图{i}.jpg", make_jpeg(width=16, height=16, seed=i)) for i in range(self.photos)]
        return [(f"{prefix}{self.title}.docx", docx), *photos]


def mail(
    unit: str,
    *drafts: Draft,
    when: datetime | None = None,
    sender: str | None = None,
    subject: str | None = None,
    genuine: bool = True,
    **kw: Any,
) -> bytes:
    """A publicist's submission as the bureau mailbox receives it: the drafts zipped with GBK names
    (as WinRAR makes them) and, when `genuine`, the provider's Authentication-Results on top."""
    name, address = PUBLICISTS.get(unit, ("陌生人", "stranger@qq.com"))
    files = [f for d in drafts for f in d.files(d.title if len(drafts) > 1 else "")]
    attachments = [(f"{unit}信息.zip", make_zip(files))] if files else []
    raw = make_submission_email(
        sender=sender or address,
        sender_name=name,
        to="pjyjjbgs@163.com",
        subject=subject or f"{unit}信息：{drafts[0].title if drafts else '无附件'}",
        date=when or datetime(2025, 6, 20, 9, 30, tzinfo=CST),
        attachments=attachments,
        **kw,
    )
    return provider_stamp(raw) if genuine else raw


def parsed_mail(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def text_of(raw: bytes) -> str:
    body = parsed_mail(raw).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, start: datetime = datetime(2025, 6, 20, 2, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
