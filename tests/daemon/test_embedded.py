"""The demo's in-process mail servers: pymap (IMAP) and aiosmtpd (SMTP) on loopback."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, LoginError

from daemon.embedded import EmbeddedIMAP, EmbeddedSMTP
from daemon.samples import TZ, make_jpeg, make_submission_email, make_zip

USER, PASSWORD = "pjyjjbgs@163.com", "demo-secret"


@pytest.fixture
def imap() -> Iterator[EmbeddedIMAP]:
    server = EmbeddedIMAP(user=USER, password=PASSWORD)
    server.start()
    yield server
    server.stop()


def _client(server: EmbeddedIMAP) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    # Keep INTERNALDATE's own offset (+0800) instead of converting to naive local time.
    client.normalise_times = False
    client.login(USER, PASSWORD)
    return client


def _mail(n: int, when: datetime) -> bytes:
    photo = make_jpeg(width=64, height=48, seed=n)
    return make_submission_email(
        sender="psxyjj_xx@163.com",
        sender_name="李娜",
        to=USER,
        subject=f"盘山县应急局信息{n}",
        date=when,
        attachments=[(f"信息{n}.zip", make_zip([(f"{n}.jpg", photo)]))],
        gbk_headers=True,
    )


def test_three_submissions_round_trip_byte_exact(imap: EmbeddedIMAP) -> None:
    """Three county submissions delivered at 9:00, 10:00, 11:00 come back byte-exact with their INTERNALDATE."""
    base = datetime(2025, 6, 3, 9, 0, 5, tzinfo=TZ)
    sent = [(_mail(n, base), base + timedelta(hours=n)) for n in range(3)]
    for raw, when in sent:
        imap.append(raw, internaldate=when)
    with _client(imap) as client:
        status = client.select_folder("INBOX")
        assert status[b"EXISTS"] == 3
        assert status[b"UIDVALIDITY"] > 0
        uids = client.search(["ALL"])
        assert len(uids) == 3
        assert status[b"UIDNEXT"] > max(uids)
        fetched = client.fetch(uids, ["BODY.PEEK[]", "RFC822.SIZE", "INTERNALDATE", "FLAGS"])
        for uid, (raw, when) in zip(sorted(uids), sent, strict=True):
            data = fetched[uid]
            assert data[b"BODY[]"] == raw
            assert data[b"RFC822.SIZE"] == len(raw)
            assert data[b"INTERNALDATE"] == when
            assert data[b"INTERNALDATE"].utcoffset() == timedelta(hours=8)
            assert b"\\Seen" not in data[b"FLAGS"]


def test_processed_mail_is_marked_with_keyword_and_seen(imap: EmbeddedIMAP) -> None:
    """After recording a submission the daemon stores \\Seen and XinbaoDone; a later search skips it."""
    when = datetime(2025, 6, 4, 14, 30, tzinfo=TZ)
    for n in range(3):
        imap.append(_mail(n, when), internaldate=when)
    with _client(imap) as client:
        assert "XinbaoDone" in [f.decode() for f in client.select_folder("INBOX")[b"PERMANENTFLAGS"]]
        first, *rest = client.search(["ALL"])
        client.add_flags([first], [b"\\Seen", b"XinbaoDone"])
        assert set(client.get_flags([first])[first]) >= {b"\\Seen", b"XinbaoDone"}
        assert client.search(["NOT", "KEYWORD", "XinbaoDone"]) == rest
        assert client.search(["UNSEEN"]) == rest


def test_id_is_advertised_and_answered(imap: EmbeddedIMAP) -> None:
    """pymap advertises RFC 2971 ID and answers it, so the daemon's 163 ID step runs unchanged."""
    with _client(imap) as client:
        assert client.has_capability("ID")
        client.id_({"name": "xinbao", "version": "0.1.0"})
        client.select_folder("INBOX")


def test_client_append_keeps_internaldate(imap: EmbeddedIMAP) -> None:
    """A message APPENDed over the wire with a date keeps that INTERNALDATE (the benchmark path)."""
    when = datetime(2025, 6, 5, 16, 45, 12, tzinfo=timezone(timedelta(hours=8)))
    raw = _mail(7, when)
    with _client(imap) as client:
        client.append("INBOX", raw, msg_time=when)
        client.select_folder("INBOX")
        (uid,) = client.search(["ALL"])
        data = client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"])[uid]
        assert data[b"BODY[]"] == raw
        assert data[b"INTERNALDATE"] == when


def test_move_mode_copies_to_done_folder_and_expunges(imap: EmbeddedIMAP) -> None:
    """mark = "move": COPY to 已处理 (modified UTF-7 on the wire), then delete and expunge from INBOX."""
    when = datetime(2025, 6, 6, 10, 0, tzinfo=TZ)
    imap.append(_mail(1, when), internaldate=when)
    with _client(imap) as client:
        client.create_folder("已处理")
        client.select_folder("INBOX")
        uids = client.search(["ALL"])
        client.copy(uids, "已处理")
        client.delete_messages(uids)
        client.uid_expunge(uids)
        assert client.search(["ALL"]) == []
        assert client.select_folder("已处理")[b"EXISTS"] == 1


def test_append_to_missing_folder_creates_it(imap: EmbeddedIMAP) -> None:
    """Seeding another folder (e.g. a leftover 已处理) works without a prior CREATE."""
    when = datetime(2025, 6, 6, 10, 0, tzinfo=TZ)
    imap.append(_mail(2, when), internaldate=when, folder="已处理")
    with _client(imap) as client:
        assert client.select_folder("已处理")[b"EXISTS"] == 1


def test_wrong_password_is_refused(imap: EmbeddedIMAP) -> None:
    """A wrong authorization code fails LOGIN, as on 163."""
    with IMAPClient("127.0.0.1", port=imap.port, ssl=False, timeout=10) as client, pytest.raises(LoginError):
        client.login(USER, "wrong")


@pytest.fixture
def smtp() -> Iterator[EmbeddedSMTP]:
    server = EmbeddedSMTP(user=USER, password=PASSWORD, strict_sender=True)
    server.start()
    yield server
    server.stop()


def test_smtp_receives_receipt_after_auth_login(smtp: EmbeddedSMTP) -> None:
    """A receipt sent after AUTH LOGIN without TLS arrives in memory with its envelope and login."""
    body = "Subject: receipt\r\n\r\n已收到\r\n".encode()
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client:
        client.ehlo()
        client.user, client.password = USER, PASSWORD
        code, _ = client.auth("LOGIN", client.auth_login)
        assert code == 235
        client.sendmail(USER, ["psxyjj_xx@163.com"], body)
    (mail,) = smtp.wait_for(1)
    assert mail.mail_from == USER
    assert mail.rcpt_tos == ("psxyjj_xx@163.com",)
    assert mail.login == USER
    assert mail.data == body


def test_smtp_refuses_unauthenticated_and_foreign_sender(smtp: EmbeddedSMTP) -> None:
    """Without AUTH the server answers 530; with it, another envelope sender gets 163's 553."""
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail(USER, ["a@163.com"], b"Subject: x\r\n\r\nx\r\n")
        assert refused.value.smtp_code == 530
        client.login(USER, PASSWORD)
        with pytest.raises(smtplib.SMTPSenderRefused) as foreign:
            client.sendmail("someone@163.com", ["a@163.com"], b"Subject: x\r\n\r\nx\r\n")
        assert foreign.value.smtp_code == 553
    assert smtp.messages == []


def test_smtp_bad_password_is_refused(smtp: EmbeddedSMTP) -> None:
    """A wrong password fails AUTH with 535."""
    with (
        smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client,
        pytest.raises(smtplib.SMTPAuthenticationError),
    ):
        client.login(USER, "wrong")


def test_stop_drops_connections_and_restart_serves_again(imap: EmbeddedIMAP) -> None:
    """A server outage: stop() ends the session and refuses new ones; start() serves again on the same port."""
    port = imap.port
    client = _client(imap)
    imap.stop()
    with pytest.raises((IMAPClientAbortError, OSError)):
        client.noop()
    client.shutdown()
    with pytest.raises(ConnectionRefusedError):
        IMAPClient("127.0.0.1", port=port, ssl=False, timeout=5)
    assert imap.start() == port
    with _client(imap) as again:
        assert again.select_folder("INBOX")[b"EXISTS"] == 0
