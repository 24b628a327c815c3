"""The hand-built denial history the analytics tests (page, API, browser journey) read: claims posted
through real 835s, appealed, overturned by a later payment and written off, each on a known day."""

import datetime
import zoneinfo
from decimal import Decimal

from claims.edi.intake import x12_import
from denials.services import appeal_file, denial_write_off
from tests.claims.era_builder import era
from tests.denials.conftest import BOTH_DENIED, BOTH_PAID, two_line_claim

D = Decimal
NY = zoneinfo.ZoneInfo("America/New_York")
MARCH_APRIL = "from=2026-03-01&to=2026-04-30"
ONE_DENIED = [
    dict(code="99214", charge="185", paid="80", cas=[("CO", "45", "85"), ("PR", "2", "20")]),
    dict(code="36415", charge="18", paid="0", cas=[("CO", "97", "18")]),
]


def _at(day: str) -> datetime.datetime:
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(10), tzinfo=NY)


def post_on(billing, claim, services, status, day, trace):
    paid = sum(D(s["paid"]) for s in services)
    result = x12_import(
        practice=billing.practice,
        file_name=f"{trace}.835",
        content=era(
            trace=trace,
            payment_date=day.replace("-", ""),
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    status=status,
                    charge="203",
                    paid=paid,
                    services=services,
                )
            ],
        ),
        now=_at(day),
    )
    assert result.applied, result.file.error
    claim.refresh_from_db()


def analytics_history(billing):
    """March: A denied CO-50 on both lines ($185 + $18), B paid. April: C paid the visit and denied the
    venipuncture CO-97 ($18), D paid, A (appealed 04/01) paid on 04/24: its denials overturned. C written off
    04/30. May (outside the range): E denied CO-50."""
    a, b, c, d, e = (two_line_claim(billing) for _ in range(5))
    post_on(billing, a, BOTH_DENIED, "4", "2026-03-20", "T1")
    post_on(billing, b, BOTH_PAID, "1", "2026-03-20", "T2")
    post_on(billing, c, ONE_DENIED, "1", "2026-04-10", "T3")
    post_on(billing, d, BOTH_PAID, "1", "2026-04-10", "T4")
    appeal_file(claim=a, at=_at("2026-04-01"))
    post_on(billing, a, BOTH_PAID, "1", "2026-04-24", "T5")
    denial_write_off(claim=c, reason="Bundled with the visit; not billable", at=_at("2026-04-30"))
    post_on(billing, e, BOTH_DENIED, "4", "2026-05-05", "T6")
    billing.claims = {"A": a, "B": b, "C": c, "D": d, "E": e}
    return billing
