"""The named rules of a scoring profile, in the order their lines appear in a unit's month."""

from __future__ import annotations

from scoring.context import Rule
from scoring.rules.adoption import AdoptionRule
from scoring.rules.article import ArticleRule
from scoring.rules.column import ColumnRule
from scoring.rules.draft import DraftRule
from scoring.rules.entry import EntryRule
from scoring.rules.quotas import QuotaRule
from scoring.rules.solicitation import SolicitationRule

RULES: tuple[Rule, ...] = (
    DraftRule(),
    ArticleRule(),
    ColumnRule(),
    AdoptionRule(),
    EntryRule(),
    SolicitationRule(),
    QuotaRule(),
)

__all__ = [
    "RULES",
    "AdoptionRule",
    "ArticleRule",
    "ColumnRule",
    "DraftRule",
    "EntryRule",
    "QuotaRule",
    "SolicitationRule",
]
