"""What the denials app shows in the claims app's pages, through the hooks claims offers
(``claims.queues.columns``, ``claims.views.panels``); registered in ``DenialsConfig.ready``."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F

from claims.models import ClaimStatus
from claims.queues.columns import QueueCell, QueueColumn
from denials.risk import DEFAULT_THRESHOLD
from denials.risk_selectors import claim_denial_risk

RISK_QUEUES = frozenset({"ready", "deadlines"})  # the queues that hold claims ready to submit


def risk_percent(score: Decimal) -> str:
    return f"{(score * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


def risk_tone(score: Decimal) -> str:
    """At or above the threshold the backtest measures: bad; above half of it: warn; else ok."""
    if score >= DEFAULT_THRESHOLD:
        return "bad"
    return "warn" if score >= DEFAULT_THRESHOLD / 2 else "ok"


def _annotate(queryset):
    return queryset.annotate(
        denial_risk_score=F("denial_risk__score"), denial_risk_reason=F("denial_risk__reason")
    )


def _cell(claim) -> QueueCell:
    score = getattr(claim, "denial_risk_score", None)
    if score is None:
        return QueueCell("")
    return QueueCell(risk_percent(score), detail=claim.denial_risk_reason, tone=risk_tone(score))


RISK_COLUMN = QueueColumn(
    key="denial_risk", title="Denial risk", annotate=_annotate, cell=_cell, queues=RISK_QUEUES
)


def risk_panel(request, claim) -> dict | None:
    """The claim page's denial risk panel (``claims.panels``): only a claim about to be sent has a risk worth
    acting on, and no query is spent on the others."""
    if claim.status != ClaimStatus.READY:
        return None
    risk = claim_denial_risk(claim)
    context = {"risk": risk}
    if risk is not None:
        context.update(_risk_words(risk))
    return {"template": "denials/_claim_risk.html", "context": context}


def _risk_words(risk) -> dict:
    return {
        "percent": risk_percent(risk.score),
        "tone": risk_tone(risk.score),
        "lines": [
            {
                **line,
                "percent": risk_percent(Decimal(line["score"])),
                "tone": risk_tone(Decimal(line["score"])),
            }
            for line in risk.line_scores
        ],
    }
