"""Scoring at province scale (issue 8 item 4): 200 units, 100,000 drafts in a year.

    python -m benchmarks.scoring [--units 200] [--drafts 100000] [--runs 3] [--ledger DIR]

Builds a SQLite ledger of that size (bulk inserts, through the real migrations), then times the
commands an office runs, as subprocesses: `scores --month`, `scores --year --people`, and
`notice monthly --out` (the .docx, .xlsx and HTML rendered). Median of `--runs`, wall clock (the
targets') and CPU seconds, with the load average: the machine is shared. `--ledger DIR` keeps the
ledger in DIR and reuses it on the next run (building one takes longer than timing it); the
commands run from the current directory, so an older checkout times its own code on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from daemon.db import make_engine, upgrade

TARGETS = {"scores --month": 2.0, "scores --year --people": 5.0, "notice monthly": 5.0}
NAMES = tuple("王强 李娜 张伟 赵敏 刘洋 陈静 杨帆 黄磊 周杰 吴昊 徐丽 孙涛 马超 朱琳 胡军 郭敏".split())  # noqa: SIM905


def build(root: Path, *, units: int, drafts: int, seed: int = 8) -> Path:
    """A config and a ledger of `units` units and `drafts` accepted drafts over 2025."""
    rng = random.Random(seed)
    names = [f"第{i + 1:03d}单位" for i in range(units)]
    lines = ["[database]", f'url = "sqlite:///{root / "xinbao.db"}"', f'raw_store = "{root / "raw"}"', ""]
    lines += ["[office]", 'emails = ["office@example.cn"]', ""]
    for i, name in enumerate(names):
        lines += [
            "[[units]]",
            f'name = "{name}"',
            f'group = "{"county" if i % 4 == 0 else "department"}"',
            "",
        ]
    config = root / "config.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    engine = make_engine(f"sqlite:///{root / 'xinbao.db'}")
    upgrade(engine)
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    start = datetime(2025, 1, 1, tzinfo=UTC)
    now = datetime(2026, 1, 5, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            t["units"].insert(),
            [
                {"id": i + 1, "name": n, "group": "department", "aliases": [], "active": True}
                for i, n in enumerate(names)
            ],
        )
        messages, subs, authors, adoptions = [], [], [], []
        for i in range(drafts):
            at = (start + timedelta(seconds=rng.randrange(365 * 86400))).replace(tzinfo=None)
            unit = rng.randrange(units) + 1
            messages.append(
                {
                    "id": i + 1,
                    "account": "a",
                    "folder": "INBOX",
                    "uidvalidity": 1,
                    "uid": i + 1,
                    "sha256": f"{i:064x}",
                    "size": 1000,
                    "internaldate": at,
                    "state": "acknowledged",
                    "outcome": "accepted",
                    "server_done": True,
                    "attempts": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            subs.append(
                {
                    "id": i + 1,
                    "message_row_id": i + 1,
                    "unit_id": unit,
                    "sender": "x@163.com",
                    "title": f"稿件{i}",
                    "text_hash": f"{i:064x}",
                    "chars": 800,
                    "images": 2,
                    "status": "accepted",
                    "category": "regular",
                    "source": "a.zip/a.docx",
                    "received_at": at,
                    "created_at": now,
                }
            )
            for pos in range(rng.choice((1, 1, 1, 2, 3))):
                authors.append(
                    {
                        "submission_id": i + 1,
                        "position": pos,
                        "name": rng.choice(NAMES),
                        "unit_text": "",
                        "unit_id": unit,
                    }
                )
            if rng.random() < 0.05:
                adoptions.append(
                    {
                        "submission_id": i + 1,
                        "channel": rng.choice(["市政府政务信息", "省级", "国家级"]),
                        "level": "municipal",
                        "adopted_at": at + timedelta(days=3),
                        "note": "",
                        "created_by": "bench",
                        "created_at": now,
                    }
                )
        for table, rows in (
            ("messages", messages),
            ("submissions", subs),
            ("submission_authors", authors),
            ("adoptions", adoptions),
        ):
            for k in range(0, len(rows), 5000):
                conn.execute(t[table].insert(), rows[k : k + 5000])
    engine.dispose()
    return config


def _time(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds (user + system) of `runs` runs of `cmd`.

    The CPU figure moves less when other sessions load the machine, the wall figure is the target's.
    """
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--drafts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ledger", type=Path, help="keep the ledger here and reuse it when it exists")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="xinbao-bench-scoring-") as tmp:
        root = args.ledger or Path(tmp)
        config = root / "config.toml"
        began = time.perf_counter()
        if config.exists() and (root / "xinbao.db").exists():
            built = None
        else:
            root.mkdir(parents=True, exist_ok=True)
            config = build(root, units=args.units, drafts=args.drafts)
            built = time.perf_counter() - began
        xinbao = [sys.executable, "-m", "daemon.cli", "--config", str(config)]
        load = os.getloadavg()[0]
        timed = {
            "scores --month": _time([*xinbao, "scores", "--month", "2025-06", "--json"], args.runs),
            "scores --year --people": _time(
                [*xinbao, "scores", "--year", "2025", "--people", "--json"], args.runs
            ),
            "notice monthly": _time(
                [*xinbao, "notice", "monthly", "--month", "2025-06", "--out", str(Path(tmp) / "n")], args.runs
            ),
        }
    figures = {name: wall for name, (wall, _) in timed.items()}
    made = (
        f"reused {root}"
        if built is None
        else f"{args.units} units, {args.drafts} drafts, built in {built:.1f} s"
    )
    print(
        f"ledger: {made}; median of {args.runs} runs; "
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    for name, (seconds, cpu) in timed.items():
        target = TARGETS[name]
        print(
            f"  {name:<24} {seconds:6.2f} s (CPU {cpu:5.2f} s)   target < {target:.0f} s   "
            f"{'met' if seconds < target else 'MISSED'}"
        )
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
