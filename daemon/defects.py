"""MIME structure defects, as mail-parser reports them, for the office's `xinbao parse` view.

Reading itself uses the stdlib parser with our own charset policy (see parsers/message.py: mail-parser
mangles GBK under gb2312 labels); mail-parser's defect categories still tell an operator *why* a
message looks odd (a missing closing boundary, a bad base64 padding).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def mime_defects(raw: bytes) -> list[str]:
    """The defect categories mail-parser finds, sorted; empty when none or when it cannot parse."""
    import mailparser

    try:
        return sorted(mailparser.parse_from_bytes(raw).defects_categories)
    except Exception as exc:  # noqa: BLE001 - a diagnostic must never break `parse`
        log.debug("mail-parser could not read the message: %s", exc)
        return []
