"""The named rules of a scoring profile, in the order their lines appear in a unit's month."""

from __future__ import annotations

from scoring.context import Rule
from scoring.rules.adoption import AdoptionRule
from scoring.rules.article import ArticleRule
from scoring.rules.draft import DraftRule
from scoring.rules.entry import EntryRule
from scoring.rules.quotas import QuotaRule

RULES: tuple[Rule, ...] = (DraftRule(), ArticleRule(), AdoptionRule(), EntryRule(), QuotaRule())

__all__ = ["RULES", "AdoptionRule", "ArticleRule", "DraftRule", "EntryRule", "QuotaRule"]
