"""The Converter edge: LibreOffice headless turns a legacy .doc/.wps/.rtf draft into .docx bytes.

Each conversion runs in its own temporary directory with its own LibreOffice profile, so two
conversions can run at once (soffice refuses to share a profile) and a profile left broken by a
crash never poisons the next one. A conversion that overruns its timeout is killed with its
whole process group: soffice is a shell script that starts oosplash, which starts soffice.bin.
Parse workers run under a soft address-space limit (daemon.guard); LibreOffice gets it lifted,
since soffice.bin maps far more address space than it uses and aborts under a few hundred MB.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_FALLBACK = "/usr/bin/libreoffice"
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,5}$")
# What LibreOffice printed is kept short in the log: the tail says why it failed.
_LOG_TAIL = 500


class LibreOfficeConverter:
    """Implements parsers.types.Converter with `soffice --headless --convert-to docx`."""

    def __init__(self, *, timeout: float = 60.0, soffice: str | None = None) -> None:
        self.timeout = timeout
        self.soffice = soffice or shutil.which("soffice") or _FALLBACK

    def available(self) -> bool:
        """Whether the soffice binary exists and is executable."""
        return os.path.isfile(self.soffice) and os.access(self.soffice, os.X_OK)

    def __call__(self, data: bytes, *, suffix: str) -> bytes | None:
        """The .docx bytes of a legacy document, or None (logged) when conversion fails."""
        if not self.available():
            log.warning("LibreOffice not found at %s: cannot convert a %s draft", self.soffice, suffix)
            return None
        if not _SUFFIX.match(suffix):
            suffix = ".doc"
        workdir = Path(tempfile.mkdtemp(prefix="xinbao-convert-"))
        try:
            return self._convert(workdir, data, suffix)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _convert(self, workdir: Path, data: bytes, suffix: str) -> bytes | None:
        source = workdir / f"input{suffix}"
        source.write_bytes(data)
        outdir = workdir / "out"
        outdir.mkdir()
        command = [
            self.soffice,
            "--headless",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(outdir),
            str(source),
        ]
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                start_new_session=True,
                # Only setrlimit runs between fork and exec: no lock a thread could hold.
                preexec_fn=_lift_memory_limit if _memory_limited() else None,
            )
        except OSError as exc:
            log.warning("Could not start LibreOffice (%s): %s", self.soffice, exc)
            return None
        try:
            output, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            # Kill the group before reaping the leader, so the group id cannot have been reused.
            _kill_group(proc.pid)
            proc.communicate()
            log.warning(
                "LibreOffice took longer than %.1f s converting a %s draft; killed", self.timeout, suffix
            )
            return None
        result = outdir / "input.docx"
        # soffice exits 0 even when it could not load the file; the missing output tells.
        if proc.returncode != 0 or not result.is_file():
            tail = output.decode("utf-8", "replace").strip()[-_LOG_TAIL:]
            log.warning(
                "LibreOffice could not convert a %s draft (exit %s): %s", suffix, proc.returncode, tail
            )
            return None
        return result.read_bytes()


def _memory_limited() -> bool:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    return soft != hard


def _lift_memory_limit() -> None:
    """Runs in the child between fork and exec: the soft limit back up to the hard one."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
