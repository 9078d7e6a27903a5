"""Photos: a baseline JPEG encoder with no image library, so drafts carry phone-sized pictures cheaply."""

from __future__ import annotations

import functools
import math
import random
import struct

_ZIGZAG = (0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45,
    38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63)  # fmt: skip
# T.81 Annex K tables, scaled to quality 75 when written.
_Q_LUMA = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)  # fmt: skip
_Q_CHROMA = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99) + (99,) * 36  # fmt: skip
_DC_SYMBOLS = tuple(range(12))
_POOL, _CELL = 31, 8
# Only short zero runs and small magnitudes are ever coded, so the Huffman tables carry just those.
_AC_SYMBOLS = (0x00, *((run << 4) | size for run in range(4) for size in range(1, 5)))


def make_jpeg(*, width: int, height: int, seed: int) -> bytes:
    """A valid baseline JPEG (JFIF, 4:4:4 YCbCr) of a noisy sky over ground; about 0.37 bytes a pixel.

    No image library: blocks are written straight as quantised coefficients (a smooth DC field plus
    random AC texture), so the size grows like a phone photo's and the file decodes anywhere.
    """
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not security)
    luma_tex, cb_tex, cr_tex, flat = _textures()
    kx, ky, phase, amp = (
        [rng.uniform(lo, hi) for _ in range(3)] for lo, hi in ((0.5, 3), (0.5, 3), (0, 6.3), (10, 30))
    )
    horizon = rng.uniform(0.35, 0.65)
    o, step = rng.randrange(_POOL), rng.randrange(1, _POOL)
    bw, bh = (width + 7) // 8, (height + 7) // 8
    dc, out, py, pcb, pcr = _DC_BITS, [], 0, 0, 0
    for by in range(bh):
        fy = by / bh
        sky = fy < horizon
        base = 200 - 60 * fy / horizon - 128 if sky else 110 - 40 * (fy - horizon) - 128
        cb, cr = (12, -5) if sky else (-8, 6)
        r0, r1, r2 = (6.3 * fy * ky[i] + phase[i] for i in range(3))
        # The DC field changes once per cell of _CELL blocks; the blocks after the first repeat its level.
        for bx in range(0, bw, _CELL):
            fx = 6.3 * bx / bw
            y = int(base + amp[0] * math.sin(fx * kx[0] + r0) + amp[1] * math.sin(fx * kx[1] + r1)
                    + amp[2] * math.sin(fx * kx[2] + r2))  # fmt: skip
            y = -120 if y < -120 else min(y, 120)
            o = (o + step) % _POOL
            out.append(dc[y - py] + luma_tex[o] + dc[cb - pcb] + cb_tex[o] + dc[cr - pcr] + cr_tex[o])
            out.extend(flat[o + 1 : o + min(_CELL, bw - bx)])
            py, pcb, pcr = y, cb, cr
    bits = "".join(out)
    bits += "1" * (-len(bits) % 8)  # T.81 F.1.2.3: pad the last byte with 1-bits
    scan = int(bits, 2).to_bytes(len(bits) // 8, "big").replace(b"\xff", b"\xff\x00")  # byte stuffing
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    return b"".join(
        (
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00"),
            _segment(0xDB, b"\x00" + _quant(_Q_LUMA) + b"\x01" + _quant(_Q_CHROMA)),
            _segment(0xC0, sof),
            _dht(0x00, _DC_SYMBOLS, 4),
            _dht(0x10, _AC_SYMBOLS, 5),
            _dht(0x01, _DC_SYMBOLS, 4),
            _dht(0x11, _AC_SYMBOLS, 5),
            _segment(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        )
    )


@functools.cache
def _textures() -> tuple[list[str], list[str], list[str], list[str]]:
    """Coded AC blocks (Y, Cb, Cr) every photo draws its texture from, and whole MCUs with no DC change."""
    rng = random.Random(0x4A504547)  # noqa: S311 (synthetic data, not security)
    ac_codes = _codes(_AC_SYMBOLS, 5)

    def block(low: int, high: int) -> str:
        bits, k = [], 1
        for _ in range(rng.randint(low, high)):
            run = rng.randrange(4)
            if k + run > 62:
                break
            size, extra = _magnitude(rng.choice((-1, 1)) * rng.randrange(1, 12))
            bits.append(ac_codes[(run << 4) | size] + extra)
            k += run + 1
        return "".join(bits) + ac_codes[0]  # EOB

    luma, cb, cr = ([block(lo, hi) for _ in range(_POOL)] for lo, hi in ((8, 26), (0, 4), (0, 4)))
    zero = _DC_BITS[0]
    return luma, cb, cr, [zero + luma[i] + zero + cb[i] + zero + cr[i] for i in range(_POOL)] * 2


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _quant(table: tuple[int, ...]) -> bytes:
    return bytes(max(1, min(255, (table[z] * 50 + 50) // 100)) for z in _ZIGZAG)


def _codes(symbols: tuple[int, ...], length: int) -> dict[int, str]:
    # Canonical codes (T.81 Annex C) all of one length; fewer symbols than codes, so none is all 1-bits.
    return {s: format(i, f"0{length}b") for i, s in enumerate(symbols)}


def _dht(table: int, symbols: tuple[int, ...], length: int) -> bytes:
    counts = [0] * 16
    counts[length - 1] = len(symbols)
    return _segment(0xC4, bytes([table, *counts, *symbols]))


def _magnitude(value: int) -> tuple[int, str]:
    size = abs(value).bit_length()
    extra = value if value > 0 else value + (1 << size) - 1
    return size, format(extra, f"0{size}b") if size else ""


_DC_BITS = {d: _codes(_DC_SYMBOLS, 4)[_magnitude(d)[0]] + _magnitude(d)[1] for d in range(-255, 256)}
