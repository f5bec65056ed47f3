"""The cards area (read-only): every answer card with its clinical review status, and each sentence's sources.

The clinic checks the content here without reading YAML: who reviewed each card and when (pending until a
clinician signs it off in knowledge/cards/<card>.yml), every sentence the bot can show, the document quotes or
clinic policy behind it, and which clinic policy entries still await approval (knowledge/clinic_policy.yml).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from knowledge.errors import KnowledgeBaseMissing
from knowledge.review import card_reviews

bp = Blueprint("cards", __name__)
NAV = ("Cards", "staff.cards.cards", False)


@bp.get("/cards")
def cards() -> Any:
    try:
        reviews, policies = card_reviews()
    except KnowledgeBaseMissing as exc:
        return render_template("staff/error.html", message=str(exc)), 503
    pending = sum(1 for card in reviews if not card.reviewed_by)
    return render_template("staff/cards.html", cards=reviews, policies=policies, pending=pending)
