"""The resource guard: messages are parsed in worker processes bounded in memory and time.

A hostile message (a bomb the archive checks miss, a pathological document) can at worst kill
its worker: the caller gets a ParsedMessage with a problem, never a hang or an OOM. Workers are
long-lived (imports cost more than most parses) and talk over stdin/stdout with length-prefixed
frames: the raw message in, the ParsedMessage as JSON out.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import queue
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from parsers.types import Author, Code, Draft, Limits, ParsedMessage, Problem, Signoff, problem

log = logging.getLogger(__name__)
_FRAME = struct.Struct(">Q")


def to_record(parsed: ParsedMessage) -> dict[str, Any]:
    """The full ParsedMessage as JSON-ready data (more than `to_json`: hashes and bodies too)."""
    return asdict(parsed)


def from_record(data: dict[str, Any]) -> ParsedMessage:
    """Rebuild a ParsedMessage from `to_record` output."""
    drafts = tuple(
        Draft(
            **{
                **d,
                "signoff": Signoff(
                    authors=tuple(Author(**a) for a in d["signoff"]["authors"]),
                    first_reviewer=d["signoff"]["first_reviewer"],
                    second_reviewer=d["signoff"]["second_reviewer"],
                ),
                "body": tuple(d["body"]),
            }
        )
        for d in data["drafts"]
    )
    problems = tuple(
        Problem(code=Code(p["code"]), message=p["message"], source=p["source"]) for p in data["problems"]
    )
    return ParsedMessage(
        **{
            **data,
            "references": tuple(data["references"]),
            "drafts": drafts,
            "problems": problems,
        }
    )


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_FRAME.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    """Exactly `n` bytes, held once: a buffered stream's read(n) fills one bytes object of n,
    looping over the pipe itself, and joining a single chunk returns it uncopied. Only a stream
    that ends early, or an unbuffered one, gives several chunks."""
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("worker stream closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(stream: IO[bytes]) -> bytes:
    (size,) = _FRAME.unpack(_read_exact(stream, _FRAME.size))
    return _read_exact(stream, size)


class _Worker:
    """One child process running `python -m daemon.guard`, with soft rlimits set by itself."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daemon.guard", json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Its own process group, so a timeout also ends a LibreOffice it started.
            start_new_session=True,
        )

    def parse(self, raw: bytes, timeout: float) -> bytes:
        assert self.proc.stdin
        assert self.proc.stdout
        _write_frame(self.proc.stdin, raw)
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError
        return _read_frame(self.proc.stdout)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._reap()

    def close(self) -> None:
        """Let the worker finish on end of input; kill it if it does not."""
        with contextlib.suppress(OSError):
            assert self.proc.stdin
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reap()

    def _reap(self) -> None:
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class Guard:
    """A small pool of parse workers; `parse` is thread-safe and never raises on bad mail."""

    def __init__(self, *, limits: Limits, workers: int = 1, rar: bool = True, convert: bool = True) -> None:
        self.limits = limits
        self._settings = {"limits": asdict(limits), "rar": rar, "convert": convert}
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(max(1, workers)):
            self._idle.put(None)  # started lazily, on first use

    def parse(self, raw: bytes) -> ParsedMessage:
        worker = self._idle.get() or _Worker(self._settings)
        started = time.monotonic()
        try:
            payload = worker.parse(raw, self.limits.max_seconds + self.limits.convert_timeout)
        except TimeoutError:
            log.warning(
                "parse worker timed out after %.0f s; message answered with a problem",
                time.monotonic() - started,
            )
            worker.kill()
            self._idle.put(None)
            return self._fallback(raw, "处理超时")
        except (EOFError, BrokenPipeError, OSError):
            # The worker died: its rlimit stopped a memory bomb, or it crashed on this input.
            code = worker.proc.poll()
            log.warning("parse worker died (exit %s); message answered with a problem", code)
            worker.kill()
            self._idle.put(None)
            return self._fallback(raw, "处理时占用内存过多")
        record = json.loads(payload)
        if record.get("error") == "memory":
            log.warning("parse worker ran out of memory; message answered with a problem")
            worker.kill()
            self._idle.put(None)
            return self._fallback(raw, "处理时占用内存过多")
        self._idle.put(worker)
        if "error" in record:
            log.error("parser failed on a message: %s", record["error"])
            return self._fallback(raw, "解析出错，已转局办公室人工核对", Code.UNREADABLE_DRAFT)
        return from_record(record)

    def _fallback(self, raw: bytes, detail: str, code: Code = Code.ARCHIVE_LIMITS_EXCEEDED) -> ParsedMessage:
        from parsers.submission import header_only

        return header_only(raw, limits=self.limits, trouble=problem(code, detail=detail))

    def close(self) -> None:
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            if worker is not None:
                worker.close()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _address_space() -> int:
    """This process's virtual size in bytes (Linux), 0 where /proc is not there."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _serve(settings: dict[str, Any]) -> None:
    """Worker main loop: imports first, then the memory limit, then frames until stdin closes."""
    import resource

    from parsers.submission import parse_message

    limits = Limits(**settings["limits"])
    converter = None
    if settings["convert"]:
        from daemon.convert import LibreOfficeConverter

        candidate = LibreOfficeConverter(timeout=limits.convert_timeout)
        converter = candidate if candidate.available() else None
    # The limit is headroom above what the loaded worker already maps, so it means the same on
    # every machine. Soft limit only: LibreOffice, started from here, raises it back for itself.
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + limits.max_memory_bytes, hard))
    parse = functools.partial(parse_message, limits=limits, convert=converter, rar=settings["rar"])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            # The message lives in _answer's frame only: nothing of it is left while the next
            # frame, which may be as big, is read.
            answer = _answer(_read_frame(stdin), parse)
        except EOFError:
            return
        except MemoryError:
            # The limit did its job; this worker's heap is suspect now, so it ends here.
            _write_frame(stdout, b'{"error": "memory"}')
            sys.exit(3)
        _write_frame(stdout, answer)


def _answer(raw: bytes, parse: Callable[[bytes], ParsedMessage]) -> bytes:
    """The reply frame for one message: its ParsedMessage as JSON, or the error the parser raised."""
    try:
        reply: dict[str, Any] = to_record(parse(raw))
    except MemoryError:
        raise
    except Exception as exc:
        log.exception("parser raised on a message")
        reply = {"error": f"{type(exc).__name__}: {exc}"}
    return json.dumps(reply, ensure_ascii=False).encode()


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
