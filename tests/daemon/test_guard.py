"""The resource guard: a message that overruns time or memory costs a worker, never the daemon."""

import os
import threading
import tracemalloc
from dataclasses import replace
from email.message import EmailMessage

from daemon.guard import Guard, _read_frame, _write_frame, from_record, to_record
from parsers.types import Author, Code, Draft, Limits, ParsedMessage, Signoff, problem


def _mail(subject: str = "关于汛期值班的信息") -> bytes:
    msg = EmailMessage()
    msg["From"] = "王强 <wangqiang.wh@163.com>"
    msg["To"] = "pjyjjbgs@163.com"
    msg["Subject"] = subject
    msg["Message-ID"] = "<guard-1@163.com>"
    msg.set_content("请查收。")
    return msg.as_bytes()


def test_records_round_trip_every_field() -> None:
    """What a worker sends back is exactly what it parsed, hashes and bodies included."""
    parsed = ParsedMessage(
        message_id="<a@b>",
        from_addr="a@b.cn",
        from_name="王强",
        subject="主题",
        date="2025-06-20T09:30:00+08:00",
        auto_reply=False,
        references=("<x@y>",),
        drafts=(
            Draft(
                source="稿件.zip/标题.docx",
                title="标题",
                chars=812,
                signoff=Signoff(authors=(Author("王强", "危化科"),), first_reviewer="刘洋"),
                images=3,
                text_hash="ab" * 32,
                body=("第一段",),
            ),
        ),
        problems=(problem(Code.MISSING_SECOND_REVIEWER, name="标题"),),
    )
    assert from_record(to_record(parsed)) == parsed


def test_a_mail_without_attachment_is_parsed_in_a_worker() -> None:
    """The ordinary path: the worker parses and answers with the problem a person would see."""
    with Guard(limits=Limits()) as guard:
        parsed = guard.parse(_mail())
        again = guard.parse(_mail("第二封"))
    assert parsed.from_addr == "wangqiang.wh@163.com"
    assert [p.code for p in parsed.problems] == [Code.NO_ATTACHMENT]
    assert again.subject == "第二封"


def test_a_parse_that_runs_out_of_time_is_answered_with_a_problem() -> None:
    """A message that takes too long ends its worker; the sender still gets a precise answer."""
    limits = replace(Limits(), max_seconds=0.0, convert_timeout=0.0)
    with Guard(limits=limits) as guard:
        parsed = guard.parse(_mail())
    assert parsed.from_addr == "wangqiang.wh@163.com"
    assert parsed.subject == "关于汛期值班的信息"
    assert [p.code for p in parsed.problems] == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "处理超时" in parsed.problems[0].message


def test_a_worker_that_runs_out_of_memory_is_answered_for_and_replaced() -> None:
    """A message that needs more memory than allowed costs its worker; the next one gets a new one."""
    heavy = EmailMessage()
    heavy["From"] = "王强 <wangqiang.wh@163.com>"
    heavy["Subject"] = "三十兆的照片"
    heavy.set_content("照片见附件")
    heavy.add_attachment(os.urandom(30 * 1024 * 1024), maintype="image", subtype="jpeg", filename="大图.jpg")
    with Guard(limits=replace(Limits(), max_memory_bytes=24 * 1024 * 1024)) as guard:
        first = guard.parse(heavy.as_bytes())
        second = guard.parse(_mail("第二封"))
    assert first.subject == "三十兆的照片"
    assert [p.code for p in first.problems] == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "内存" in first.problems[0].message
    assert first.complete is False
    assert second.subject == "第二封"
    assert [p.code for p in second.problems] == [Code.NO_ATTACHMENT]


def test_a_big_message_is_held_once_while_a_worker_reads_it() -> None:
    """A 24 MB message crossing the pipe to a worker becomes one buffer, never a list of chunks
    joined into a second copy (a 60 MB mail with a raised limit must fit the worker's memory)."""
    message = os.urandom(24 * 1024 * 1024)
    read_end, write_end = os.pipe()
    with open(read_end, "rb") as reader, open(write_end, "wb") as writer:
        sender = threading.Thread(target=_write_frame, args=(writer, message))
        sender.start()
        tracemalloc.start()
        try:
            received = _read_frame(reader)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        sender.join()
    assert received == message
    assert peak < 1.2 * len(message)
