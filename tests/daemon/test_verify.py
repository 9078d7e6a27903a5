"""Sender verification on the bureau's 163 mailbox: the provider's word first, then DKIM with DNS.

Messages are signed here with a throw-away RSA key the way 163 signs (d=163.com, s=s110527, the
header list of the corpus' real 163 mail); DNS is a dict, so no test touches the network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import dkim
import dns.exception
import pytest

from daemon.verify import MAX_SIGNATURES, VerifyConfig, header_values, verify_sender

# 1024-bit RSA, PKCS#1 (`openssl genrsa -traditional 1024`); made for these tests only.
KEY = b"""-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQC+zvUXEN11VAJ6PGyGw1NQ/nc2w4MO9FTFanqKI32cD2W6LPIF
m/qGPZcHK7IPc8H7JqTxEMlLj0XqFibwlGu/IDbJnDhemrPmCgQvAy26KHfiHEO3
FetcyBNNdcuVy3lG/nDPYYwXK1GTa7gyHAe34zAHqumPfYWPUG9OYgyP0wIDAQAB
AoGAJa7byo1jHzvTLW7nhAnpV3KZ+q/MH1TztPVddBCkSwDjd0xPE/qFFKPvQtRH
WzPiWIZ+Rrmo94o5JYzwbczyJjnRSw3d/uqLh/RTHi/m1P/iD4CbxpzFn5i2nbKU
uIMzuSdqSE+/XmP5ABMImXd1xx6LxDMpqT/QrwYJdSKy90kCQQD8yXJXf4Kmzdat
/4eKtVEUK2CazM9O6GwqFeevW9XQNlR92YNX0YSPKhfm/mvfia1oA4qYvXTZe4fv
ZlNv3qn1AkEAwTvWJdOGjlMSd7UXwXlw4LvVnNpZmEnraJoeVFKxU6Y7IM/zF1LF
BR0jGwNhzBVRvRRsKUv1vlOrWkz6JtlNpwJBALxFoSav7nQjvK/NMHtLvf5irEm/
HuvrSZwywmMl5+JyhI1S8nL2tl8Wf8ToWxmbZg6hDJnkCWJtkfno4V3hnf0CQEHX
nLmY4OGAJuvJNgYD1lWNS1U+BYdhsKgc07bR0oB5RO6CTQemeWGrsvmSZnF+1jJC
UjSkIGEw61NCpX41T0MCQCAMCzQuCPHeFhuqo6lwEDtAY20BF12hdfIrtVVZv2+e
+ZP9YhrnuLl7zl2Hl3Kv1tm/enBH8UdS/WmX0JHAFGY=
-----END RSA PRIVATE KEY-----
"""
PUBLIC = (
    b"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC+zvUXEN11VAJ6PGyGw1NQ/nc2w4MO9FTFanqKI32cD2W6LPIF"
    b"m/qGPZcHK7IPc8H7JqTxEMlLj0XqFibwlGu/IDbJnDhemrPmCgQvAy26KHfiHEO3FetcyBNNdcuVy3lG/nDPYYwXK1GTa7gyHAe34zAHq"
    b"umPfYWPUG9OYgyP0wIDAQAB"
)
DNS = {
    b"s110527._domainkey.163.com.": PUBLIC,
    b"mail._domainkey.evil.com.": PUBLIC,
    b"gov._domainkey.panjin.gov.cn.": PUBLIC,
}
WANG = "wangqiang.wh@163.com"
OFFICE = "office@yjj.panjin.gov.cn"
CFG = VerifyConfig()
# 163's real h= list (corpus: osst__163_coremail_gb2312_attachment_name.eml).
SIGNED_163 = [b"from", b"subject", b"date", b"mime-version", b"message-id"]


def dns_from(records: dict[bytes, bytes]) -> Callable[[bytes], bytes | None]:
    return records.get


def message(from_addr: str = WANG, body: str = "稿件见附件。") -> bytes:
    return (
        f"From: =?UTF-8?B?546L5by6?= <{from_addr}>\r\nTo: pjyjjbgs@163.com\r\n"
        "Subject: =?UTF-8?B?5oqV56i/?=\r\nDate: Fri, 20 Jun 2025 09:30:00 +0800\r\n"
        "Message-ID: <1@m12-18.163.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        f"{body}\r\n"
    ).encode()


def signed(raw: bytes, domain: bytes = b"163.com", selector: bytes = b"s110527", **kw: object) -> bytes:
    sig: bytes = dkim.sign(raw, selector, domain, KEY, include_headers=SIGNED_163, **kw)
    return sig + raw


def received(raw: bytes, *auth_results: str) -> bytes:
    """What 163's MX prepends on delivery: its Received line, then (if any) Authentication-Results."""
    top = b"".join(f"Authentication-Results: {a}\r\n".encode() for a in auth_results)
    return top + b"Received: from m12-18.163.com (unknown [220.181.12.18]) by mx14 (Coremail)\r\n" + raw


class Recorder:
    """A DNS that answers from a dict and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[bytes] = []

    def __call__(self, name: bytes) -> bytes | None:
        self.asked.append(name)
        return DNS.get(name)


def timeout(name: bytes) -> bytes | None:
    raise dns.exception.Timeout


def unreachable(name: bytes) -> bytes | None:
    raise OSError("Network is unreachable")


GENUINE = signed(message())
FORGED = message()  # sent from elsewhere, claiming the publicist's address
A_R_PASS = "mx14.163.com; spf=pass smtp.mail=wangqiang.wh@163.com; dkim=pass header.i=@163.com"
SELF_MADE = "mx.163.com; dkim=pass header.i=@163.com; dmarc=pass header.from=163.com"
# Exchange Online stamps mail it sends with a header named after the *recipient's* domain, with a
# stray "163.com;" in it (seen in public mailing-list archives of mail to 163 users).
EXCHANGE = (
    "Authentication-Results: 163.com; dkim=none (message not signed)\r\n header.d=none;163.com; dmarc=none"
    " action=none header.from=panjin.gov.cn;\r\n"
)


@pytest.mark.parametrize(
    ("raw", "from_addr", "verified", "method", "reason"),
    [
        pytest.param(received(GENUINE, A_R_PASS), WANG, True, "authentication-results", "dkim=pass for 163.com",
                     id="genuine 163 publicist, provider says dkim=pass"),
        pytest.param(received(FORGED, "mx14.163.com; spf=softfail smtp.mail=x@evil.com; dkim=none", SELF_MADE),
                     WANG, False, "none", "no DKIM signature",
                     id="forged pass below the provider's header is never read"),
        pytest.param(received(FORGED, "mx14.163.com; spf=fail smtp.mail=wangqiang.wh@163.com; dkim=fail"
                              " header.i=@163.com", SELF_MADE),
                     WANG, False, "authentication-results", "dkim=fail",
                     id="provider's dkim=fail is final"),
        pytest.param(received(FORGED, "mx.evil.com; dkim=pass header.d=163.com; dmarc=pass header.from=163.com"),
                     WANG, False, "none", "no DKIM signature", id="foreign authserv-id claiming pass"),
        pytest.param(received(GENUINE, "mx14.163.com; dmarc=fail header.from=163.com"), WANG, False,
                     "authentication-results", "dmarc=fail", id="dmarc fail even with a good signature"),
        pytest.param(GENUINE, WANG, True, "dkim", "DKIM signature of 163.com", id="no A-R, valid 163 DKIM"),
        pytest.param(received(GENUINE, "mx14.163.com; spf=softfail smtp.mail=x@evil.com"), WANG, True, "dkim",
                     "163.com", id="provider reports spf only, DKIM decides"),
        pytest.param(signed(message(), b"evil.com", b"mail"), WANG, False, "dkim", "not aligned",
                     id="evil.com signs a 163 From"),
        pytest.param(GENUINE.replace("稿件见附件".encode(), "请点击链接".encode()), WANG, False, "dkim",
                     "body hash mismatch", id="body tampered after signing"),
        pytest.param(GENUINE.replace(WANG.encode(), b"lijun@163.com"), "lijun@163.com", False, "dkim",
                     "does not verify", id="From changed after signing"),
        pytest.param(signed(message(), length=True), WANG, False, "dkim", "part of the body",
                     id="l= lets unsigned content follow"),
        pytest.param(signed(message("boss@vip.163.com")), "boss@vip.163.com", False, "dkim", "not aligned",
                     id="free 163 signature does not vouch for vip.163.com"),
        pytest.param(signed(message(OFFICE), b"panjin.gov.cn", b"gov"), OFFICE, True, "dkim", "panjin.gov.cn",
                     id="office on a gov.cn subdomain, parent signs"),
        pytest.param(EXCHANGE.encode() + signed(message(OFFICE), b"panjin.gov.cn", b"gov"), OFFICE, True, "dkim",
                     "panjin.gov.cn", id="Exchange's own '163.com' header is no verdict, DKIM decides"),
        pytest.param(EXCHANGE.encode() + message(OFFICE), OFFICE, False, "none", "no DKIM signature",
                     id="Exchange's '163.com' header vouches for nobody"),
        pytest.param(signed(message(), b"163.com", b"gone"), WANG, False, "dkim", "no DKIM key published",
                     id="selector without a key"),
        pytest.param(b"\x00\xff garbage with no headers", WANG, False, "none", "no DKIM signature", id="not a message"),
    ],
)  # fmt: skip
def test_bureau_situations(raw: bytes, from_addr: str, verified: bool, method: str, reason: str) -> None:
    """Each situation gives the expected verdict, by the expected method, with a telling reason."""
    verdict = verify_sender(raw, from_addr=from_addr, cfg=CFG, dnsfunc=dns_from(DNS))
    assert (verdict.verified, verdict.method) == (verified, method), verdict.reason
    assert reason in verdict.reason
    assert verdict.temporary is False
    assert (verdict.domain is not None) is verified


def test_a_trusted_pass_needs_no_dns() -> None:
    """The provider's own dkim=pass decides: no key is looked up."""
    dns = Recorder()
    verdict = verify_sender(received(GENUINE, A_R_PASS), from_addr=WANG, cfg=CFG, dnsfunc=dns)
    assert verdict.verified
    assert dns.asked == []


@pytest.mark.parametrize(
    ("lookup", "said"),
    [(timeout, "DNS timeout"), (unreachable, "DNS failure")],
    ids=["timeout", "unreachable"],
)
def test_dns_trouble_is_a_temporary_not_verified(lookup: Callable[[bytes], bytes | None], said: str) -> None:
    """Without DNS a good signature cannot be checked: not verified, marked temporary, never raised."""
    verdict = verify_sender(GENUINE, from_addr=WANG, cfg=CFG, dnsfunc=lookup)
    assert not verdict.verified
    assert verdict.temporary
    assert said in verdict.reason
    assert "s110527._domainkey.163.com" in verdict.reason


def test_trust_rests_on_the_provider_adding_its_header() -> None:
    """If 163 added no header of its own, a forged one with its id would be topmost and believed.

    This is the deployment check of docs: look at a real delivered message; if 163 adds no
    Authentication-Results, configure no authserv-id and let DKIM decide.
    """
    raw = received(FORGED, SELF_MADE)
    assert verify_sender(raw, from_addr=WANG, cfg=CFG, dnsfunc=dns_from(DNS)).verified
    verdict = verify_sender(raw, from_addr=WANG, cfg=replace(CFG, authserv_ids=()), dnsfunc=dns_from(DNS))
    assert (verdict.verified, verdict.method) == (False, "none")


def test_dkim_off_leaves_only_the_provider() -> None:
    """With DKIM checking off, a message without a trusted header is unverified and nothing is asked."""
    dns = Recorder()
    verdict = verify_sender(GENUINE, from_addr=WANG, cfg=replace(CFG, dkim=False), dnsfunc=dns)
    assert (verdict.verified, verdict.method, dns.asked) == (False, "none", [])
    assert "DKIM checking is off" in verdict.reason


def test_a_flood_of_signatures_costs_few_lookups() -> None:
    """A hostile message with fifty bad signatures is checked only up to the cap."""
    bad = b"".join(signed(message(), b"evil.com", f"s{i}".encode())[: -len(message())] for i in range(50))
    dns = Recorder()
    verdict = verify_sender(bad + message(), from_addr=WANG, cfg=CFG, dnsfunc=dns)
    assert not verdict.verified
    assert len(dns.asked) == MAX_SIGNATURES
    assert "45 more signatures not checked" in verdict.reason


def test_header_values_stop_at_the_body_and_unfold() -> None:
    """Authentication-Results in the body (a quoted bounce) are not headers; folded ones are joined."""
    raw = b"authentication-results: mx14.163.com;\r\n\tdkim=pass\r\nFrom: a@b.cn\r\n\r\nAuthentication-Results: x; none\r\n"
    assert header_values(raw, "Authentication-Results") == ["mx14.163.com; dkim=pass"]
