"""Solicitations (约稿, 三(二)1): `solicit add|list|grade`; office mail with 【约稿】 registers, 【约稿评分】 grades."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from daemon.cli.common import database, fail

solicit_app = typer.Typer(no_args_is_help=True, help="约稿：登记约稿、查看回复、评分")


@solicit_app.command("add")
def solicit_add(
    ctx: typer.Context,
    topic: Annotated[str, typer.Option("--topic", help="约稿主题")],
    deadline: Annotated[str, typer.Option("--deadline", help="截止日期，如 2025-07-10")],
    unit: Annotated[
        list[str] | None, typer.Option("--unit", help="约稿单位（可多次指定；不指定为全部单位）")
    ] = None,
) -> None:
    """登记一项约稿，并通知约稿单位的宣传员。"""
    from daemon import solicitations
    from daemon.db import session
    from daemon.runtime import system_clock

    try:
        request = solicitations.Request(
            topic.strip(), solicitations.parse_deadline(deadline), tuple(unit or ())
        )
    except solicitations.SolicitationError as exc:
        fail(str(exc))
    if not request.topic:
        fail("约稿主题不能为空")
    with database(ctx) as (config, engine), session(engine) as s:
        try:
            sol = solicitations.register(s, config, request, created_by="cli", now=system_clock())
        except solicitations.SolicitationError as exc:
            fail(str(exc))
        sol_id, units = sol.id, "、".join(sol.units) or "全部单位"
    typer.echo(
        f"已登记约稿 #{sol_id}：《{request.topic}》，截止{request.deadline.isoformat()}，约稿单位：{units}"
    )


@solicit_app.command("list")
def solicit_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出约稿及各单位的回复（回复编号用于评分）。"""
    from sqlmodel import col, select

    from daemon.db import session
    from daemon.models import Submission, Unit
    from daemon.models_scoring import Solicitation, SolicitationResponse
    from scoring.periods import day_of
    from scoring.results import points_json

    with database(ctx) as (_, engine), session(engine, readonly=True) as s:
        units = {u.id: u.name for u in s.exec(select(Unit))}
        rows: list[dict[str, Any]] = []
        for sol in s.exec(select(Solicitation).order_by(col(Solicitation.deadline), col(Solicitation.id))):
            responses: list[dict[str, Any]] = []
            for r in s.exec(
                select(SolicitationResponse)
                .where(SolicitationResponse.solicitation_id == sol.id)
                .order_by(col(SolicitationResponse.id))
            ):
                sub = s.get(Submission, r.submission_id)
                responses.append(
                    {
                        "id": r.id,
                        "submission_id": r.submission_id,
                        "unit": units.get(sub.unit_id) if sub else None,
                        "title": sub.title if sub else "",
                        "received_at": sub.received_at.isoformat() if sub else None,
                        "grade": r.grade,
                        "deduction": points_json(r.deduction),
                        "note": r.note,
                        "graded_by": r.graded_by or None,
                        "graded_at": r.graded_at.isoformat() if r.graded_at else None,
                    }
                )
            rows.append(
                {
                    "id": sol.id,
                    "topic": sol.topic,
                    "deadline": sol.deadline.isoformat(),
                    "units": list(sol.units),
                    "created_by": sol.created_by,
                    "responses": responses,
                }
            )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        units_text = "、".join(row["units"]) or "全部单位"
        typer.echo(f"#{row['id']} 《{row['topic']}》 截止{row['deadline']} 约稿单位：{units_text}")
        for resp in row["responses"]:
            graded = "未评分" if resp["grade"] is None else f"评{resp['grade']}分，扣{resp['deduction']}分"
            if resp["graded_at"]:
                when = day_of(datetime.fromisoformat(resp["graded_at"]))
                by = "命令行" if resp["graded_by"] == "cli" else resp["graded_by"]
                graded += f"（{by}，{when.month}月{when.day}日）"
            typer.echo(
                f"  回复 #{resp['id']} 稿件 #{resp['submission_id']} {resp['unit']}《{resp['title']}》 {graded}"
            )
    typer.echo(f"共 {len(rows)} 项约稿")


@solicit_app.command("grade")
def solicit_grade(
    ctx: typer.Context,
    response: Annotated[int, typer.Argument(help="回复编号（见 xinbao solicit list）")],
    score: Annotated[int, typer.Option("--score", help="评分：0、1、2、3")],
    deduct: Annotated[str, typer.Option("--deduct", help="扣分（错别字、内容不符等）")] = "0",
    note: Annotated[str, typer.Option("--note", help="说明")] = "",
) -> None:
    """为约稿回复评分（0至3分），可扣分。"""
    from decimal import Decimal, InvalidOperation

    from daemon import solicitations
    from daemon.db import session
    from daemon.runtime import system_clock

    try:
        amount = Decimal(deduct)
    except InvalidOperation:
        fail(f"扣分“{deduct}”不是数字")
    with database(ctx) as (_, engine), session(engine) as s:
        try:
            solicitations.grade(
                s, response, score=score, deduct=amount, note=note, by="cli", now=system_clock()
            )
        except solicitations.SolicitationError as exc:
            fail(str(exc))
    typer.echo(f"已评分：回复 #{response} 评{score}分" + (f"，扣{deduct}分" if amount else ""))
