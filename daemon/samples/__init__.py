"""Realistic submission mail built in code: drafts (.docx), photos (JPEG), GBK zips, 163-style messages.

Deterministic: every function takes its seed and dates as arguments and never reads the clock.
`demo_month` is the sample data of `xinbao demo`; `demo_config_toml` is the config it runs with.
One module per piece: `drafts`, `photos`, `archives`, `messages`, `publicists` (the demo units and
their config), `phrases` (what the demo drafts say), `month` (the demo month), `stamps` (fixed times).
"""

from __future__ import annotations

from daemon.samples.archives import make_zip
from daemon.samples.drafts import make_docx
from daemon.samples.messages import DEFAULT_BODY, Mailer, make_submission_email
from daemon.samples.month import SampleMessage, demo_month, full_weeks
from daemon.samples.photos import make_jpeg
from daemon.samples.phrases import Signoff
from daemon.samples.publicists import (
    DEMO_PUBLICISTS,
    DEMO_SOLICITATION,
    MAILBOX,
    PANJIN_UNITS,
    DemoPublicist,
    demo_config_toml,
)
from daemon.samples.stamps import TZ, DosTime

__all__ = [
    "DEFAULT_BODY",
    "DEMO_PUBLICISTS",
    "DEMO_SOLICITATION",
    "MAILBOX",
    "PANJIN_UNITS",
    "TZ",
    "DemoPublicist",
    "DosTime",
    "Mailer",
    "SampleMessage",
    "Signoff",
    "demo_config_toml",
    "demo_month",
    "full_weeks",
    "make_docx",
    "make_jpeg",
    "make_submission_email",
    "make_zip",
]
