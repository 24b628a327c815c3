"""The remittance pages: the list (filters, sort, CSV), one remittance in plain words with the deposit
reconciliation, and resolving exceptions (match by claim number, post as sent, dismiss with a reason);
access, tenancy and pinned query counts."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from claims.edi.intake import x12_import
from claims.models import ClaimStatus, ExceptionStatus, Remittance, RemittanceException, Transaction
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.models import AuditEvent, FeeScheduleRow
from rcm.roles import Role, role_can
from tests.api import api
from tests.claims.conftest import DOS
from tests.claims.era_builder import era
from tests.conftest import login

D = Decimal

# Pinned query counts: session, user, memberships (middleware) + what the page itself reads.
LIST_QUERIES = 7  # + status counts, page count, page rows (open exceptions counted in SQL), payers
DETAIL_QUERIES = (
    11  # + remittance, audit insert, claim payments, claim-level CAS, lines, line CAS, PLBs, exceptions
)
# + page count, page rows, tab counts, remittances to filter by, the unmatched payments as read, the claims
# they may pay (+ their lines, when there are any)
EXCEPTIONS_QUERIES = 9


def accepted_claim(billing, lines=None):
    """A claim of 99214 $185.00 + 36415 $18.00 (or ``lines``), sent and accepted by the payer."""
    claim = billing.claim(
        lines=lines
        or [
            LineInput(
                procedure_code="99214", charge=D("185.00"), service_date_from=DOS, diagnosis_pointers=[1, 2]
            ),
            LineInput(procedure_code="36415", charge=D("18.00"), service_date_from=DOS),
        ]
    )
    for status in ("ready", "submitted", "accepted"):
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    return claim


_CONTROLS = iter(range(200, 100000))


def import_era(billing, **kwargs) -> Remittance:
    control = f"{next(_CONTROLS):09d}"
    result = x12_import(
        practice=billing.practice, file_name=f"era-{control}.835", content=era(control=control, **kwargs)
    )
    assert result.applied, result.file.error
    return Remittance.objects.get(practice=billing.practice, trace_number=kwargs["trace"])


def era_payment(claim, paid="120", **extra):
    """The payer pays ``paid`` on the 99214 (CO-45 for the rest) and the 36415 in full: CLP04 = paid + 18."""
    lines = {line.procedure_code: line for line in claim.lines.all()}
    return dict(
        pcn=claim.patient_control_number,
        charge="203",
        paid=str(D(paid) + 18),
        services=[
            dict(
                code="99214",
                charge="185",
                paid=paid,
                cas=[("CO", "45", str(185 - D(paid)))],
                lcn=lines["99214"].line_control_number,
                rarc=["N130"],
            ),
            dict(code="36415", charge="18", paid="18", lcn=lines["36415"].line_control_number),
        ],
        **extra,
    )


def unknown_payment(pcn="NOSUCHCLAIM", paid="50"):
    return dict(pcn=pcn, charge=paid, paid=paid, services=[dict(code="99212", charge=paid, paid=paid)])


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _rows(response) -> list[tuple]:
    return [
        (
            r.trace_number,
            r.payment_amount,
            r.posted_payments,
            r.claim_count,
            r.open_exception_count,
            r.current_status,
        )
        for r in response.context["page"].object_list
    ]


def resolution_state():
    """What resolving an exception may change: exceptions, ledger, claim statuses, remittance totals."""
    from claims.models import Claim

    return (
        sorted(RemittanceException.objects.values_list("pk", "status", "resolution_note")),
        Transaction.objects.count(),
        sorted(Claim.objects.values_list("pk", "status", "insurance_paid")),
        sorted(Remittance.objects.values_list("pk", "posted_payments")),
    )


@pytest.fixture
def two_remittances(billing):
    """EFT1: one claim paid in full ($138.00). EFT2: one claim paid $108.00 and one payment for a claim
    we do not have ($50.00), left in exceptions; BPR02 $158.00."""
    first, second = accepted_claim(billing), accepted_claim(billing)
    eft1 = import_era(billing, trace="EFT1", payment_date="20260310", claims=[era_payment(first)])
    eft2 = import_era(
        billing,
        trace="EFT2",
        payment_date="20260320",
        claims=[era_payment(second, paid="90"), unknown_payment()],
    )
    return eft1, eft2, first, second


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_remittance_pages_follow_the_claims_view_permission(role, billing, persona, two_remittances):
    client = persona(role)
    expected = 200 if role_can(role, "claims.view") else 403
    for url in ("/remittances/", f"/remittances/{two_remittances[1].pk}/", "/remittances/exceptions/"):
        assert client.get(url).status_code == expected, url


@pytest.mark.parametrize("role", [Role.MANAGER, Role.COLLECTIONS])
def test_roles_without_claims_edit_see_exceptions_but_cannot_resolve_them(
    role, billing, persona, two_remittances
):
    client = persona(role)
    exception = RemittanceException.objects.get()
    page = client.get("/remittances/exceptions/")
    assert exception.message in _text(page)
    assert f"/remittances/exceptions/{exception.pk}/resolve/" not in page.content.decode()
    before = resolution_state()
    response = client.post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "dismiss", "note": "not ours"}
    )
    assert response.status_code == 403
    assert resolution_state() == before


def test_anonymous_visitors_are_sent_to_sign_in(billing, two_remittances):
    for url in ("/remittances/", f"/remittances/{two_remittances[0].pk}/", "/remittances/exceptions/"):
        response = Client().get(url)
        assert (response.status_code, response.url) == (302, f"/login/?next={url}")


def test_another_practices_remittances_and_exceptions_are_404_and_not_listed(
    billing, outsider, biller, two_remittances
):
    eft1, eft2, first, _second = two_remittances
    exception = RemittanceException.objects.get()
    client = login(outsider)
    assert client.get(f"/remittances/{eft2.pk}/").status_code == 404
    assert client.get(f"/remittances/exceptions/?remittance={eft2.pk}").status_code == 404
    assert _rows(client.get("/remittances/")) == []
    assert list(client.get("/remittances/exceptions/").context["page"].object_list) == []
    before = resolution_state()
    response = client.post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "match", "claim": first.pk}
    )
    assert response.status_code == 404
    assert resolution_state() == before
    assert not AuditEvent.objects.filter(action="view", object_type="claims.remittance").exists()


# --- list ----------------------------------------------------------------------------------------


def test_the_list_shows_each_remittance_with_its_exact_totals(billing, biller, two_remittances):
    response = login(biller).get("/remittances/")
    assert _rows(response) == [
        ("EFT2", D("158.00"), D("108.00"), 2, 1, "exceptions"),
        ("EFT1", D("138.00"), D("138.00"), 1, 0, "posted"),
    ]
    text = _text(response)
    eft2 = two_remittances[1]
    assert (
        f'<td class="mono"><a href="/remittances/{eft2.pk}/">EFT2</a></td> <td>EFT (ACH)</td> '
        '<td class="nowrap">03/20/2026</td> <td class="num">$158.00</td> <td class="num">$108.00</td> '
        f'<td class="num">2</td> <td class="num"><a href="/remittances/exceptions/?remittance={eft2.pk}" '
        'class="owed">1 open</a></td>'
    ) in text
    assert '<span class="badge bad" data-status="exceptions">Exceptions open</span>' in text
    assert '<td class="num">$138.00</td> <td class="num">$138.00</td>' in text
    assert [(c["label"], c["count"]) for c in response.context["chips"]] == [
        ("All", 2),
        ("With open exceptions", 1),
        ("Fully posted", 1),
    ]


def test_the_status_filter_keeps_remittances_with_open_exceptions_only(billing, biller, two_remittances):
    client = login(biller)
    assert [row[0] for row in _rows(client.get("/remittances/?status=exceptions"))] == ["EFT2"]
    assert [row[0] for row in _rows(client.get("/remittances/?status=posted"))] == ["EFT1"]
    assert [row[0] for row in _rows(client.get("/remittances/?status=nonsense"))] == ["EFT2", "EFT1"]


def test_a_remittance_whose_exceptions_are_resolved_counts_as_posted(billing, biller, two_remittances):
    from claims.remittances.posting import exception_resolve

    exception_resolve(
        exception=RemittanceException.objects.get(), action="dismiss", user=biller, note="not ours"
    )
    response = login(biller).get("/remittances/?status=exceptions")
    assert _rows(response) == []
    rows = _rows(login(biller).get("/remittances/"))
    assert rows[0] == ("EFT2", D("158.00"), D("108.00"), 2, 0, "posted")


def test_the_payer_filter_and_the_date_sort(billing, biller, two_remittances):
    other = accepted_claim(billing)
    import_era(
        billing,
        trace="CHK77",
        payment_date="20260315",
        payer_name="MEDICARE PART B",
        payer_id="00952",
        claims=[era_payment(other)],
    )
    client = login(biller)
    assert [row[0] for row in _rows(client.get(f"/remittances/?payer={billing.payer.pk}"))] == [
        "EFT2",
        "EFT1",
    ]
    assert [row[0] for row in _rows(client.get(f"/remittances/?payer={billing.medicare.pk}"))] == ["CHK77"]
    assert [row[0] for row in _rows(client.get("/remittances/?sort=date"))] == ["EFT1", "CHK77", "EFT2"]
    assert [row[0] for row in _rows(client.get("/remittances/"))] == ["EFT2", "CHK77", "EFT1"]


def test_csv_export_has_exactly_the_filtered_rows_and_is_audited(billing, biller, two_remittances):
    response = login(biller).get("/remittances/?status=exceptions&format=csv")
    assert response["Content-Type"] == "text/csv"
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:8] == [
        "Payer",
        "Payer ID",
        "Check/EFT number",
        "Payment method",
        "Payment date",
        "Payment (BPR02)",
        "Posted payments",
        "Provider adjustments (PLB)",
    ]
    assert [row[:13] for row in rows[1:]] == [
        [
            "Acme Health",
            "1371234567",
            "EFT2",
            "EFT (ACH)",
            "2026-03-20",
            "158.00",
            "108.00",
            "0.00",
            "0.00",
            "2",
            "1",
            "1",
            "Posted with exceptions",
        ]
    ]
    event = AuditEvent.objects.get(action="export")
    assert (event.user, event.practice, event.object_type, event.changes) == (
        biller,
        billing.practice,
        "claims.remittance",
        {"status": "exceptions"},
    )


def test_the_list_query_count_is_the_same_for_1_and_10_remittances(
    billing, biller, django_assert_num_queries
):
    client = login(biller)
    import_era(billing, trace="T0", claims=[era_payment(accepted_claim(billing)), unknown_payment("NOPE0")])
    with CaptureQueriesContext(connection) as one:
        assert client.get("/remittances/").status_code == 200
    for n in range(1, 10):
        import_era(
            billing, trace=f"T{n}", claims=[era_payment(accepted_claim(billing)), unknown_payment(f"NOPE{n}")]
        )
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get("/remittances/")
    assert len(_rows(response)) == 10
    assert len(one) == LIST_QUERIES


# --- detail --------------------------------------------------------------------------------------


def test_the_detail_explains_every_claim_payment_in_plain_words(billing, biller):
    claim = accepted_claim(billing)
    l1, l2 = claim.lines.order_by("line_number")
    remittance = import_era(
        billing,
        trace="EFT9",
        claims=[era_payment(claim, paid="120", interest="0")],
        plb=[("WO", "OVERPAY123", "25.00"), ("L6", "INT1", "-1.25")],
    )
    response = login(biller).get(f"/remittances/{remittance.pk}/")
    text = _text(response)
    assert "CLP02 1</span> processed as primary" in text
    assert f'<a class="mono" href="/claims/{claim.pk}/">{claim.patient_control_number}</a>' in text
    assert '<span class="patient">Garcia, Elena</span>' in text
    assert (
        '<span class="amount">$65.00</span> CO-45: charge exceeds the fee schedule or contracted amount '
        "(contractual obligation (the practice absorbs it))"
    ) in text
    assert (
        '<span class="mono">N130</span> consult plan benefit documents or guidelines for coverage information'
        in text
    )
    assert (
        f'<td class="nowrap">1 · <span class="mono">99214</span></td> <td class="mono nowrap">99214</td> '
        f'<td class="nowrap">03/02/2026</td> <td class="num">1</td> '
        f'<td class="muted small">line control number {l1.line_control_number} (REF*6R)</td> '
        '<td class="num">$185.00</td> <td class="num">$120.00</td> <td class="num">$120.00</td>'
    ) in text
    assert '2 · <span class="mono">36415</span>' in text and l2.line_control_number in text
    assert '<span class="mono">WO</span> overpayment recovery</td> <td class="mono">OVERPAY123</td>' in text
    assert '<span class="mono">L6</span> interest owed' in text
    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_id, event.user) == (
        "claims.remittance",
        str(remittance.pk),
        biller,
    )


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("2", "processed as secondary"),
        ("4", "denied"),
        ("19", "processed as primary, forwarded to additional payer(s)"),
        ("22", "reversal of a previous payment"),
        ("23", "not our claim, forwarded to additional payer(s)"),
        ("25", "predetermination pricing only, no payment"),
    ],
)
def test_clp02_in_words(code, words):
    from claims.remittances.selectors import claim_payment_status_words

    assert claim_payment_status_words(code) == words


def test_an_allowed_amount_short_of_the_contract_is_highlighted(billing, biller):
    FeeScheduleRow.objects.create(
        practice=billing.practice,
        contract=billing.contract,
        procedure_code="99214",
        allowed_amount=D("130.00"),
    )
    claim = accepted_claim(billing)
    remittance = import_era(billing, trace="EFT5", claims=[era_payment(claim, paid="110")])
    text = _text(login(biller).get(f"/remittances/{remittance.pk}/"))
    assert (
        '<td class="num short" title="$20.00 less than the contract\'s expected allowed">$110.00'
        '<div class="small">short $20.00</div></td> <td class="num">$130.00</td>'
    ) in text
    # A denied line (allowed nothing) is explained by its CARC, not highlighted as an underpayment.
    denied = accepted_claim(billing)
    remittance = import_era(
        billing,
        trace="EFT6",
        claims=[
            dict(
                pcn=denied.patient_control_number,
                status="4",
                charge="203",
                paid="0",
                services=[
                    dict(code="99214", charge="185", paid="0", cas=[("CO", "197", "185")], rarc=["N54"]),
                    dict(code="36415", charge="18", paid="0", cas=[("CO", "97", "18")]),
                ],
            )
        ],
    )
    text = _text(login(biller).get(f"/remittances/{remittance.pk}/"))
    assert "CLP02 4</span> denied" in text
    assert '<td class="num">$0.00</td> <td class="num">$130.00</td>' in text
    assert "short $" not in text


def test_a_fully_posted_remittance_reconciles_to_zero(billing, biller):
    claim = accepted_claim(billing)
    remittance = import_era(
        billing,
        trace="EFT3",
        claims=[era_payment(claim, paid="120")],
        plb=[("WO", "OVERPAY123", "25.00"), ("72", "ADV9", "-10.00")],
    )
    response = login(biller).get(f"/remittances/{remittance.pk}/")
    rec = response.context["reconciliation"]
    assert (
        rec.payment_amount,
        rec.posted,
        rec.provider_adjustments,
        rec.posted_net,
        rec.not_posted,
        rec.difference,
        rec.unexplained,
    ) == (D("123.00"), D("138.00"), D("15.00"), D("123.00"), D("0.00"), D("0.00"), D("0.00"))
    text = _text(response)
    assert (
        '<tr class="total" id="difference"><td>Difference <span class="muted small">payment − posted, net; '
        '0.00 once everything is posted</span></td><td class="num">$0.00</td></tr>'
    ) in text
    assert '<dd class="" id="difference-headline">$0.00</dd>' in text


def test_a_claim_left_in_exceptions_shows_the_exact_difference_in_red(billing, biller, two_remittances):
    eft2 = two_remittances[1]
    response = login(biller).get(f"/remittances/{eft2.pk}/")
    rec = response.context["reconciliation"]
    assert (
        rec.payment_amount,
        rec.posted,
        rec.posted_count,
        rec.not_posted,
        rec.not_posted_count,
        rec.difference,
        rec.unexplained,
    ) == (D("158.00"), D("108.00"), 1, D("50.00"), 1, D("50.00"), D("0.00"))
    text = _text(response)
    assert (
        '<tr class="total not-reconciled" id="difference"><td>Difference <span class="muted small">payment − '
        'posted, net; 0.00 once everything is posted</span></td><td class="num">$50.00</td></tr>'
    ) in text
    assert '<dd class="owed" id="difference-headline">$50.00</dd>' in text
    assert "No claim NOSUCHCLAIM in this practice (payer claim number PCNNOSUCHCLAIM, charge $50.00)." in text
    assert '<span class="badge bad">not posted: in exceptions</span>' in text


def test_a_check_that_does_not_balance_shows_what_is_unexplained(billing, biller):
    claim = accepted_claim(billing)
    remittance = import_era(billing, trace="EFT4", claims=[era_payment(claim)], total="140.00")
    rec = login(biller).get(f"/remittances/{remittance.pk}/").context["reconciliation"]
    assert (rec.difference, rec.unexplained) == (D("2.00"), D("2.00"))


def test_the_detail_query_count_does_not_grow_with_claims(billing, biller, django_assert_num_queries):
    client = login(biller)
    small = import_era(
        billing, trace="S1", claims=[era_payment(accepted_claim(billing))], plb=[("WO", "X1", "1.00")]
    )
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/remittances/{small.pk}/").status_code == 200
    big = import_era(
        billing,
        trace="B10",
        claims=[era_payment(accepted_claim(billing)) for _ in range(8)]
        + [unknown_payment("NOPE1"), unknown_payment("NOPE2")],
        plb=[("WO", "X2", "1.00"), ("L6", "X3", "-1.00")],
    )
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(f"/remittances/{big.pk}/")
    assert len(response.context["payments"]) == 10
    assert len(one) == DETAIL_QUERIES


# --- exceptions ----------------------------------------------------------------------------------


def test_the_exceptions_page_lists_open_ones_with_their_actions(billing, biller, two_remittances):
    eft2 = two_remittances[1]
    exception = RemittanceException.objects.get()
    response = login(biller).get("/remittances/exceptions/")
    assert list(response.context["page"].object_list) == [exception]
    assert response.context["counts"] == {"open": 1, "resolved": 0}
    text = _text(response)
    assert (
        "<td>No matching claim</td> <td>No claim NOSUCHCLAIM in this practice (payer claim number "
        "PCNNOSUCHCLAIM, charge $50.00).</td>"
    ) in text
    assert f'<a href="/remittances/{eft2.pk}/">Acme Health <span class="mono">EFT2</span></a>' in text
    assert "Match to claim…" in text and "Dismiss</button>" in text
    assert "Post as sent" not in text  # only for unbalanced and duplicate payments
    assert list(login(biller).get("/remittances/exceptions/?view=resolved").context["page"].object_list) == []


def test_an_unmatched_payment_is_matched_by_claim_number_and_posted(billing, biller):
    claim = accepted_claim(billing)
    wrong = era_payment(claim)
    wrong["pcn"] = "TYPO" + claim.patient_control_number
    remittance = import_era(billing, trace="EFT7", claims=[wrong])
    exception = RemittanceException.objects.get()
    client = login(biller)

    found = client.get(
        f"/remittances/exceptions/?match={exception.pk}&claim_number={claim.patient_control_number}"
    )
    assert found.context["match"]["claim"] == claim
    text = _text(found)
    assert f'<input type="hidden" name="claim" value="{claim.pk}">' in text
    assert "Garcia, Elena · 03/02/2026 · Acme Health · $203.00" in text
    assert "Post $138.00 to this claim</button>" in text

    response = client.post(
        f"/remittances/exceptions/{exception.pk}/resolve/",
        {"action": "match", "claim": claim.pk, "note": "PCN typo at the payer"},
        follow=True,
    )
    assert response.redirect_chain == [("/remittances/exceptions/", 302)]
    assert f"Posted $138.00 from Acme Health EFT7 to claim {claim.patient_control_number}." in _text(response)
    exception.refresh_from_db()
    claim.refresh_from_db()
    remittance.refresh_from_db()
    assert (exception.status, exception.resolved_by, exception.resolution_note) == (
        ExceptionStatus.POSTED,
        biller,
        "PCN typo at the payer",
    )
    assert (claim.status, claim.insurance_paid, claim.insurance_balance) == (
        ClaimStatus.PAID,
        D("138.00"),
        D("0.00"),
    )
    assert remittance.posted_payments == D("138.00")
    rec = client.get(f"/remittances/{remittance.pk}/").context["reconciliation"]
    assert (rec.posted, rec.not_posted, rec.difference) == (D("138.00"), D("0.00"), D("0.00"))


def test_an_unknown_claim_number_is_an_error_beside_the_action(billing, biller, two_remittances):
    exception = RemittanceException.objects.get()
    client = login(biller)
    found = client.get(f"/remittances/exceptions/?match={exception.pk}&claim_number=NOPE123")
    assert '<p class="field-error" role="alert">No claim NOPE123 in this practice.</p>' in _text(found)
    before = resolution_state()
    response = client.post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "match", "claim_number": "NOPE123"}
    )
    assert response.status_code == 200
    assert '<p class="field-error" role="alert">No claim NOPE123 in this practice.</p>' in _text(response)
    assert resolution_state() == before


def test_a_claim_of_another_practice_cannot_be_chosen(billing, biller, other_practice, two_remittances):
    from tests.claims.factories import make_claim

    theirs = make_claim(other_practice)
    exception = RemittanceException.objects.get()
    before = resolution_state()
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "match", "claim": theirs.pk}
    )
    assert "That claim is not in this practice." in _text(response)
    response = login(biller).get(
        f"/remittances/exceptions/?match={exception.pk}&claim_number={theirs.patient_control_number}"
    )
    assert f"No claim {theirs.patient_control_number} in this practice." in _text(response)
    assert resolution_state() == before


def test_a_refusal_of_the_posting_engine_is_shown_and_changes_nothing(billing, biller, two_remittances):
    _eft1, _eft2, first, _second = (
        two_remittances  # first is paid already: posting to it again is a duplicate
    )
    exception = RemittanceException.objects.get()
    before = resolution_state()
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "match", "claim": first.pk}
    )
    assert response.status_code == 200
    error = re.search(r'<p class="field-error" role="alert">([^<]+)</p>', _text(response))
    assert error is not None and first.patient_control_number in error.group(1)
    assert resolution_state() == before


def test_dismissing_without_a_reason_shows_the_error_and_changes_nothing(billing, biller, two_remittances):
    exception = RemittanceException.objects.get()
    before = resolution_state()
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "dismiss", "note": " "}
    )
    assert response.status_code == 200
    text = _text(response)
    assert '<p class="field-error" role="alert">Say why the exception is dismissed.</p>' in text
    assert (
        'placeholder="reason (required)" aria-label="Reason for dismissing" value=" " aria-invalid="true">'
        in text
    )
    assert resolution_state() == before


def test_dismissing_with_a_reason_resolves_it(billing, biller, two_remittances):
    eft2 = two_remittances[1]
    exception = RemittanceException.objects.get()
    before_ledger = Transaction.objects.count()
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/",
        {"action": "dismiss", "note": "not our patient; payer notified", "remittance": eft2.pk},
        follow=True,
    )
    assert response.redirect_chain == [(f"/remittances/exceptions/?remittance={eft2.pk}", 302)]
    assert "Dismissed: no matching claim in Acme Health EFT2." in _text(response)
    exception.refresh_from_db()
    assert (exception.status, exception.resolved_by, exception.resolution_note) == (
        ExceptionStatus.DISMISSED,
        biller,
        "not our patient; payer notified",
    )
    assert Transaction.objects.count() == before_ledger
    resolved = login(biller).get("/remittances/exceptions/?view=resolved")
    assert list(resolved.context["page"].object_list) == [exception]
    assert "not our patient; payer notified" in _text(resolved)
    # Dismissed, the payment is still not posted: the reconciliation keeps showing it.
    rec = login(biller).get(f"/remittances/{eft2.pk}/").context["reconciliation"]
    assert rec.difference == D("50.00")


def test_an_unbalanced_payment_is_posted_as_sent(billing, biller):
    claim = accepted_claim(billing)
    unbalanced = era_payment(claim)
    unbalanced["services"][0]["cas"] = [("CO", "45", "60")]  # 185 - 60 != 120
    import_era(billing, trace="EFT8", claims=[unbalanced])
    exception = RemittanceException.objects.get()
    assert exception.kind == "unbalanced"
    client = login(biller)
    assert "Post as sent</button>" in _text(client.get("/remittances/exceptions/"))
    client.post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "post", "note": "payer confirmed"}
    )
    exception.refresh_from_db()
    claim.refresh_from_db()
    assert (exception.status, exception.resolution_note) == (ExceptionStatus.POSTED, "payer confirmed")
    assert claim.insurance_paid == D("138.00")


def test_an_exception_resolved_meanwhile_says_so(billing, biller, two_remittances):
    from claims.remittances.posting import exception_resolve

    exception = RemittanceException.objects.get()
    exception_resolve(exception=exception, action="dismiss", user=biller, note="first")
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "dismiss", "note": "second"}
    )
    assert '<li class="msg-error">This exception was already resolved.</li>' in _text(response)
    exception.refresh_from_db()
    assert exception.resolution_note == "first"


def test_the_exceptions_query_count_is_the_same_for_1_and_10(billing, biller, django_assert_num_queries):
    client = login(biller)
    import_era(billing, trace="X0", claims=[unknown_payment("NOPE0")])
    with CaptureQueriesContext(connection) as one:
        assert client.get("/remittances/exceptions/").status_code == 200
    for n in range(1, 10):
        import_era(billing, trace=f"X{n}", claims=[unknown_payment(f"NOPE{n}")])
    with django_assert_num_queries(EXCEPTIONS_QUERIES):
        response = client.get("/remittances/exceptions/")
    assert len(response.context["page"].object_list) == 10
    assert len(one) == EXCEPTIONS_QUERIES


# --- suggested claims, bulk dismiss, filters -------------------------------------------------------


def _claim_of(billing, *, patient_last="Garcia", member="XJH123456789", dos=DOS, charge="185.00"):
    """An accepted claim of 99214 (``charge``) + 36415 $18.00 on ``dos``, for Elena Garcia (the billing
    fixture's patient) or another patient with their own coverage."""
    import datetime

    from tests.rcm.factories import CoverageFactory, PatientFactory

    coverage = billing.coverage
    if patient_last != "Garcia" or member != "XJH123456789":
        patient = PatientFactory(practice=billing.practice, last_name=patient_last, first_name="Noah")
        coverage = CoverageFactory(
            practice=billing.practice,
            patient=patient,
            payer=billing.payer,
            member_id=member,
            effective_date=datetime.date(2025, 1, 1),
        )
    claim = billing.claim(
        coverage=coverage,
        lines=[
            LineInput(
                procedure_code="99214", charge=D(charge), service_date_from=dos, diagnosis_pointers=[1]
            ),
            LineInput(procedure_code="36415", charge=D("18.00"), service_date_from=dos),
        ],
    )
    for status in ("ready", "submitted", "accepted"):
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    return claim


@pytest.fixture
def mistyped(billing):
    """Elena Garcia's claim of 03/02/2026 ($203.00), the same visit's claim billed $10.00 more, her claim of
    three days later, another patient's claim of the same day and charge, and one 835 paying $138.00 under
    a mistyped claim number (left in the exceptions)."""
    import datetime

    right = _claim_of(billing)
    dearer = _claim_of(billing, charge="195.00")
    later = _claim_of(billing, dos=DOS + datetime.timedelta(days=3))
    stranger = _claim_of(billing, patient_last="Okafor", member="ZZZ999")
    payment = era_payment(right)
    payment["pcn"] = "TYPO" + right.patient_control_number
    for service in payment["services"]:
        service.pop("lcn")
    remittance = import_era(billing, trace="EFT8", claims=[payment])
    return remittance, RemittanceException.objects.get(), right, dearer, later, stranger


def test_an_unmatched_payment_comes_with_its_suggested_claims_best_first(billing, biller, mistyped):
    remittance, exception, right, dearer, later, stranger = mistyped
    response = login(biller).get("/remittances/exceptions/")
    row = response.context["page"].object_list[0]
    assert [(s.claim, s.score, s.reason) for s in row.suggestions] == [
        (right, 110, "same member id, patient name, date of service, procedures and charge"),
        (
            dearer,
            100,
            "same member id, patient name, date of service and procedures, charge differs by $10.00",
        ),
        (later, 87, "same member id, patient name, procedures and charge, dates of service 3 days apart"),
    ]
    assert stranger not in [s.claim for s in row.suggestions]  # fourth: same day and charge only
    text = _text(response)
    assert "same member id, patient name, date of service, procedures and charge" in text
    assert (
        f'<input type="hidden" name="action" value="match"><input type="hidden" name="claim" '
        f'value="{right.pk}">'
    ) in text


def test_one_click_on_a_suggestion_matches_and_posts_the_payment(billing, biller, mistyped):
    remittance, exception, right, *_others = mistyped
    client = login(biller)
    response = client.post(
        f"/remittances/exceptions/{exception.pk}/resolve/",
        {"action": "match", "claim": right.pk},
        follow=True,
    )
    assert response.redirect_chain == [("/remittances/exceptions/", 302)]
    assert f"Posted $138.00 from Acme Health EFT8 to claim {right.patient_control_number}." in _text(response)
    exception.refresh_from_db()
    right.refresh_from_db()
    remittance.refresh_from_db()
    assert (exception.status, exception.resolved_by) == (ExceptionStatus.POSTED, biller)
    assert (right.status, right.insurance_paid, right.insurance_balance) == (
        ClaimStatus.PAID,
        D("138.00"),
        D("0.00"),
    )
    assert remittance.posted_payments == D("138.00")
    assert list(response.context["page"].object_list) == []


def test_a_suggested_claim_already_paid_by_this_payer_is_refused_and_nothing_changes(
    billing, biller, mistyped
):
    remittance, exception, right, *_others = mistyped
    import_era(billing, trace="EFT9", claims=[era_payment(right)])  # the payer paid it under its number too
    before = resolution_state()
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "match", "claim": right.pk}
    )
    assert response.status_code == 200
    assert (
        f'<p class="field-error" role="alert">Claim {right.patient_control_number} already has a posted '
        "payment from this payer at this level; this one was not posted.</p>"
    ) in _text(response)
    assert resolution_state() == before


def test_a_suggested_claim_whose_lines_do_not_fit_the_payment_is_refused_and_nothing_changes(
    billing, biller, mistyped
):
    remittance, exception, right, *_others = mistyped
    other = billing.claim(
        lines=[
            LineInput(
                procedure_code="99213", charge=D("203.00"), service_date_from=DOS, diagnosis_pointers=[1]
            )
        ]
    )
    for status in ("ready", "submitted", "accepted"):
        claim_transition(claim=other, to_status=status)
    before = resolution_state()
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "match", "claim": other.pk}
    )
    assert (
        f'<p class="field-error" role="alert">Claim {other.patient_control_number}: '
        "no line of the claim matches 99214 on 03/02/2026, 36415 on 03/02/2026.</p>"
    ) in _text(response)
    assert resolution_state() == before


def test_matching_a_payment_whose_amounts_do_not_balance_is_refused_and_nothing_changes(billing, biller):
    """A payment under an unknown claim number whose line does not add up (charge $185.00 less $60.00 of
    adjustments is not the $120.00 paid) cannot be posted to a claim the biller picks: the message names the
    sums in the page's money format, and nothing is posted."""
    claim = accepted_claim(billing)
    payment = era_payment(claim)
    payment["pcn"] = "TYPO" + claim.patient_control_number
    payment["services"][0]["cas"] = [("CO", "45", "60")]
    for service in payment["services"]:
        service.pop("lcn")
    import_era(billing, trace="EFT8", claims=[payment])
    exception = RemittanceException.objects.get()
    assert exception.kind == "unbalanced"
    before = resolution_state()
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "match", "claim": claim.pk}
    )
    assert response.status_code == 200
    assert (
        f'<p class="field-error" role="alert">Claim TYPO{claim.patient_control_number}: line 99214 (segment '
    ) in _text(response)
    assert "charge $185.00 minus adjustments $60.00 is $125.00, but the payment is $120.00; " in _text(
        response
    )
    assert (
        f"claim TYPO{claim.patient_control_number}: charge $203.00 minus adjustments $60.00 is $143.00, "
        "but the payment less interest is $138.00. The payment does not balance: it can be posted as sent "
        "only to the claim it names.</p>"
    ) in _text(response)
    assert resolution_state() == before


def test_a_suggestion_cannot_be_posted_to_another_practices_claim(billing, biller, other_practice, mistyped):
    from tests.claims.factories import make_claim

    exception = mistyped[1]
    theirs = make_claim(other_practice)
    before = resolution_state()
    response = login(biller).post(
        f"/remittances/exceptions/{exception.pk}/resolve/", {"action": "match", "claim": theirs.pk}
    )
    assert '<p class="field-error" role="alert">That claim is not in this practice.</p>' in _text(response)
    assert resolution_state() == before


def test_no_suggestions_for_roles_that_cannot_resolve_and_none_for_other_kinds(billing, persona, mistyped):
    response = persona(Role.MANAGER).get("/remittances/exceptions/")
    assert response.status_code == 200
    assert "Suggested claims" not in _text(response)
    assert response.context["page"].object_list[0].suggestions == []


def test_the_exceptions_query_count_is_the_same_with_suggestions(
    billing, biller, mistyped, django_assert_num_queries
):
    client = login(biller)
    with django_assert_num_queries(EXCEPTIONS_QUERIES + 1):  # + the candidate claims' lines
        response = client.get("/remittances/exceptions/")
    assert len(response.context["page"].object_list[0].suggestions) == 3


def test_several_exceptions_are_dismissed_at_once_with_one_reason(billing, biller):
    import_era(billing, trace="X1", claims=[unknown_payment("NOPE1")])
    import_era(billing, trace="X2", claims=[unknown_payment("NOPE2"), unknown_payment("NOPE3")])
    first, second, third = RemittanceException.objects.order_by("pk")
    client = login(biller)
    response = client.post(
        "/remittances/exceptions/dismiss/",
        {"exception": [first.pk, second.pk], "note": "test payments from the payer"},
        follow=True,
    )
    assert response.redirect_chain == [("/remittances/exceptions/", 302)]
    assert "Dismissed 2 exceptions: test payments from the payer" in _text(response)
    assert list(response.context["page"].object_list) == [third]
    assert sorted(
        RemittanceException.objects.values_list("pk", "status", "resolution_note", "resolved_by")
    ) == [
        (first.pk, "dismissed", "test payments from the payer", biller.pk),
        (second.pk, "dismissed", "test payments from the payer", biller.pk),
        (third.pk, "open", "", None),
    ]
    statuses = dict(Remittance.objects.values_list("trace_number", "status"))
    assert statuses == {"X1": "posted", "X2": "exceptions"}
    response = client.post(
        "/remittances/exceptions/dismiss/", {"exception": [third.pk], "note": "one more"}, follow=True
    )
    assert "Dismissed 1 exception: one more" in _text(response)


def test_bulk_dismiss_is_all_or_nothing(billing, biller, other_practice):
    import_era(billing, trace="X1", claims=[unknown_payment("NOPE1"), unknown_payment("NOPE2")])
    first, second = RemittanceException.objects.order_by("pk")
    client = login(biller)
    client.post(f"/remittances/exceptions/{second.pk}/resolve/", {"action": "dismiss", "note": "done"})
    before = resolution_state()
    response = client.post(
        "/remittances/exceptions/dismiss/", {"exception": [first.pk, second.pk], "note": "x"}
    )
    assert response.status_code == 200
    assert (
        f'<p class="field-error" role="alert">Exception {second.pk} was already resolved; '
        "nothing dismissed.</p>" in _text(response)
    )
    response = client.post("/remittances/exceptions/dismiss/", {"exception": [first.pk, 999999], "note": "x"})
    assert "No exception 999999 in this practice; nothing dismissed." in _text(response)
    response = client.post("/remittances/exceptions/dismiss/", {"exception": [first.pk], "note": " "})
    assert "Say why the exceptions are dismissed." in _text(response)
    response = client.post("/remittances/exceptions/dismiss/", {"note": "why"})
    assert "Choose the exceptions to dismiss." in _text(response)
    assert resolution_state() == before


def test_the_exceptions_page_filters_by_kind_and_by_remittance(billing, biller):
    claim = accepted_claim(billing)
    import_era(billing, trace="X1", claims=[unknown_payment("NOPE1")])
    x2 = import_era(billing, trace="X2", claims=[unknown_payment("NOPE2")])
    import_era(billing, trace="X3", claims=[era_payment(claim)])
    import_era(billing, trace="X4", claims=[era_payment(claim)])  # a second payment: duplicate
    unmatched1, unmatched2, duplicate = RemittanceException.objects.order_by("pk")
    client = login(biller)

    def shown(query):
        return list(client.get(f"/remittances/exceptions/{query}").context["page"].object_list)

    assert shown("") == [unmatched1, unmatched2, duplicate]
    assert shown("?kind=duplicate") == [duplicate]
    assert shown("?kind=unmatched") == [unmatched1, unmatched2]
    assert shown(f"?kind=unmatched&remittance={x2.pk}") == [unmatched2]
    assert shown("?kind=nonsense") == [unmatched1, unmatched2, duplicate]  # unknown values are ignored
    response = client.get("/remittances/exceptions/?kind=duplicate")
    assert response.context["counts"] == {"open": 1, "resolved": 0}
    text = _text(response)
    assert '<option value="duplicate" selected>Duplicate payment</option>' in text
    assert [r.trace_number for r in response.context["remittances"]] == ["X4", "X2", "X1"]


# --- the remittance tells the truth ----------------------------------------------------------------


def test_the_list_and_the_page_agree_on_what_was_posted_and_show_plb_interest_as_interest(billing, biller):
    paid, denied = accepted_claim(billing), accepted_claim(billing)
    lines = {line.procedure_code: line for line in denied.lines.all()}
    remittance = import_era(
        billing,
        trace="EFT30",
        claims=[
            era_payment(paid),
            dict(
                pcn=denied.patient_control_number,
                status="4",
                charge="203",
                paid="0",
                services=[
                    dict(
                        code="99214",
                        charge="185",
                        paid="0",
                        cas=[("CO", "50", "185")],
                        lcn=lines["99214"].line_control_number,
                    ),
                    dict(
                        code="36415",
                        charge="18",
                        paid="0",
                        cas=[("CO", "50", "18")],
                        lcn=lines["36415"].line_control_number,
                    ),
                ],
            ),
            unknown_payment(),
        ],
        plb=[("L6", "INT1", "-2.50")],
    )
    client = login(biller)
    listed = client.get("/remittances/")
    row = listed.context["page"].object_list[0]
    assert (row.posted_payments, row.posted_net, row.provider_adjustment_effect) == (
        D("138.00"),
        D("140.50"),
        D("2.50"),
    )
    assert '<td class="num">$140.50<div class="small muted">claims $138.00, PLB $2.50</div></td>' in _text(
        listed
    )
    assert row.interest_total == D("2.50")
    exported = list(csv.reader(io.StringIO(client.get("/remittances/?format=csv").content.decode())))
    assert exported[1][exported[0].index("Interest")] == "2.50"
    api_row = api(biller).get("/api/remittances/").json()["results"][0]
    assert api_row["interest"] == "2.50"
    assert api(biller).get(f"/api/remittances/{remittance.pk}/").json()["interest"] == "2.50"
    response = client.get(f"/remittances/{remittance.pk}/")
    rec = response.context["reconciliation"]
    assert rec.posted_net == row.posted_net
    assert (rec.paid_count, rec.denied_count, rec.not_posted_count) == (1, 1, 1)
    assert (rec.interest, rec.interest_claims, rec.interest_provider_level) == (D("2.50"), D("0"), D("2.50"))
    text = _text(response)
    assert (
        '<dd id="claim-counts">1 paid · 1 denied · 1 in exceptions '
        '<span class="muted small">of 3 claim payments</span></dd>' in text
    )
    assert (
        '<dd id="interest">$2.50 '
        '<span class="muted small">$0.00 on claims, $2.50 provider-level (PLB L6)</span></dd>' in text
    )
    assert text.count('<span class="badge ok">posted</span>') == 1  # the paid claim only
    assert (
        '<span class="badge warn" title="Posted: the payer denied this claim">posted: denied</span>' in text
    )
    assert (
        '<h1>Acme Health <span class="mono">EFT30</span>' in text
    )  # the practice's payer, not "ACME HEALTH"


def test_a_claim_without_the_procedures_paid_or_already_paid_is_suggested_lower_and_says_why(
    billing, biller, mistyped
):
    from claims.remittances.selectors import exception_suggestions, remittance_exception_list

    remittance, exception, right, dearer, later, stranger = mistyped
    other = billing.claim(
        lines=[
            LineInput(
                procedure_code="99213", charge=D("203.00"), service_date_from=DOS, diagnosis_pointers=[1]
            )
        ]
    )
    for status in ("ready", "submitted", "accepted"):
        claim_transition(claim=other, to_status=status)
    import_era(billing, trace="EFT9", claims=[era_payment(right)])  # the payer paid it under its number too
    rows = list(remittance_exception_list(billing.practice, view="open"))
    found = {
        s.claim: (s.score, s.reason) for s in exception_suggestions(billing.practice, rows)[exception.pk]
    }
    assert found == {
        dearer: (
            100,
            "same member id, patient name, date of service and procedures, charge differs by $10.00",
        ),
        right: (
            90,
            "same member id, patient name, date of service, procedures and charge, the claim is paid already",
        ),
        later: (87, "same member id, patient name, procedures and charge, dates of service 3 days apart"),
    }
    assert all(
        s.claim != other for s in exception_suggestions(billing.practice, rows)[exception.pk]
    )  # 99214, 36415 not on it: 60, fourth
