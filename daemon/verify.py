"""Is the From genuine? The provider's own Authentication-Results first, else DKIM (dkimpy, DNS).

The edge around `parsers.authresults`: it reads headers out of the raw bytes, asks DNS for DKIM
keys through an injectable lookup, and turns every failure (a timeout, a hostile signature,
dkimpy raising) into a not-verified `Verdict` with its reason. It never raises.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

import dkim
import dns.exception
from dkim import dnsplug

from daemon.config import VerifyConfig
from parsers.authresults import (
    AuthResults,
    Verdict,
    aligned,
    domain_of,
    topmost_trusted,
    verdict_from_results,
)

log = logging.getLogger(__name__)

DnsFunc = Callable[[bytes], bytes | None]

# A hostile message may carry thousands of signatures; each costs a DNS lookup. Real mail has one
# or two (the author's domain, perhaps a mailing list's).
MAX_SIGNATURES = 5
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LINE = re.compile(r"\r?\n(?![ \t])")


def verify_sender(
    raw: bytes, *, from_addr: str, cfg: VerifyConfig, dnsfunc: DnsFunc | None = None
) -> Verdict:
    """The verdict on `from_addr` (the parser's single From address) for one raw message."""
    results = topmost_trusted(header_values(raw, "Authentication-Results"), authserv_ids=cfg.authserv_ids)
    provider: Verdict | None = None
    if results is not None:
        provider = verdict_from_results(results, from_addr=from_addr)
        # A dkim or dmarc result, pass or fail, is the provider's word on the message as it arrived
        # and final; one that only reports spf (or nothing) leaves DKIM for us to check.
        if provider.verified or _conclusive(results):
            return provider
    if not cfg.dkim:
        return provider or Verdict(False, "none", "no trusted Authentication-Results; DKIM checking is off")
    verdict = verify_dkim(raw, from_addr=from_addr, timeout=cfg.dns_timeout, dnsfunc=dnsfunc)
    if provider is not None and not verdict.verified:
        reason = f"{verdict.reason}; provider said: {provider.reason}"
        return Verdict(False, verdict.method, reason, None, verdict.temporary)
    return verdict


def _conclusive(results: AuthResults) -> bool:
    return any(
        r.method in ("dkim", "dmarc") and r.result not in ("none", "temperror") for r in results.results
    )


def header_values(raw: bytes, name: str) -> list[str]:
    """Unfolded values of every `name` header, top to bottom (pure; no MIME parsing needed)."""
    m = _HEADER_END.search(raw)
    block = (raw[: m.start()] if m else raw).decode("utf-8", "replace")
    wanted = name.lower()
    values: list[str] = []
    for line in _LINE.split(block):
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == wanted:
            values.append(" ".join(value.split()))
    return values


@dataclass
class _Lookups:
    """Wraps the DNS lookup dkimpy calls, remembering what went wrong (dkimpy only logs it)."""

    inner: DnsFunc
    failures: list[str] = field(default_factory=list)
    temporary: bool = False

    def __call__(self, name: bytes, timeout: float = 5.0) -> bytes | None:
        shown = name.decode("ascii", "replace").rstrip(".")
        try:
            txt = self.inner(name)
        except (TimeoutError, dns.exception.Timeout, dkim.DnsTimeoutError) as exc:
            self._fail(f"DNS timeout looking up {shown}", exc)
        except (OSError, dns.exception.DNSException) as exc:
            self._fail(f"DNS failure looking up {shown}", exc)
        if txt is None:
            self.failures.append(f"no DKIM key published at {shown}")
        return txt

    def _fail(self, what: str, exc: BaseException) -> NoReturn:
        self.failures.append(f"{what} ({exc.__class__.__name__})")
        self.temporary = True
        # dkimpy turns exactly this exception into "not verified" rather than letting it out.
        raise dkim.DnsTimeoutError(what) from exc


def _default_dns(timeout: float) -> DnsFunc:
    def lookup(name: bytes) -> bytes | None:
        txt: bytes | None = dnsplug.get_txt(name, timeout=timeout)
        return txt

    return lookup


def verify_dkim(raw: bytes, *, from_addr: str, timeout: float, dnsfunc: DnsFunc | None = None) -> Verdict:
    """Verified iff a DKIM signature covering From verifies and its d= aligns with From's domain."""
    from_domain = domain_of(from_addr) if "@" in from_addr else ""
    if not header_values(raw, "DKIM-Signature"):
        # Cheap first: dkimpy would parse the whole (perhaps 60 MB) message to find nothing.
        return Verdict(False, "none", "no trusted Authentication-Results and no DKIM signature")
    lookups = _Lookups(dnsfunc or _default_dns(timeout))
    notes: list[str] = []
    try:
        signer = dkim.DKIM(raw, logger=log.getChild("dkimpy"), timeout=timeout)
        count = sum(1 for name, _ in signer.headers if name.lower() == b"dkim-signature")
    except Exception as exc:  # noqa: BLE001 (dkimpy raises assorted errors on hostile headers)
        return Verdict(False, "dkim", f"message unreadable for DKIM: {exc}")
    if count == 0:
        return Verdict(False, "none", "no trusted Authentication-Results and no DKIM signature")
    for idx in range(min(count, MAX_SIGNATURES)):
        before = len(lookups.failures)
        signer.signature_fields = {}
        try:
            ok = signer.verify(idx=idx, dnsfunc=lookups)
        except Exception as exc:  # noqa: BLE001 (a malformed signature or key must not stop the daemon)
            # dkimpy appends both hashes to a mismatch; the log needs only what failed.
            what = str(exc).split(" (")[0]
            notes.append(f"signature of {_text(signer.signature_fields.get(b'd', b'?'))}: {what}")
            continue
        d = _text(signer.domain)
        if not ok:
            why = "; ".join(lookups.failures[before:]) or "signature does not verify"
            notes.append(f"signature of {d}: {why}")
        elif b"from" not in signer.include_headers:
            notes.append(f"signature of {d} does not cover From")
        elif b"l" in signer.signature_fields:
            # l= signs only a prefix of the body: anything (an attachment) could follow unsigned.
            notes.append(f"signature of {d} covers only part of the body (l=)")
        elif not aligned(d, from_domain):
            notes.append(
                f"signature of {d} verifies but is not aligned with From {from_domain or from_addr!r}"
            )
        else:
            reason = f"DKIM signature of {d} (s={_text(signer.selector)}) verifies, aligned with From {from_domain}"
            return Verdict(True, "dkim", reason, d)
    if count > MAX_SIGNATURES:
        notes.append(f"{count - MAX_SIGNATURES} more signatures not checked")
    return Verdict(False, "dkim", "; ".join(notes), None, lookups.temporary)


def _text(value: object) -> str:
    return value.decode("ascii", "replace").lower() if isinstance(value, bytes) else str(value)
