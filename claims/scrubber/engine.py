"""Runs the rules over many claims with a fixed number of queries per batch, and stores the results."""

import dataclasses
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from claims.models import Claim, ClaimLine, ClaimStatus, MueLimit, NcciPtpEdit, ScrubRuleSetting, ScrubStatus
from claims.scrubber.rules import RULES, ClaimContext, Finding, Severity
from claims.state_machine import claim_transition_many
from rcm.bulk import bulk_update_values
from rcm.models import Coverage, Patient, Payer, PayerContract, Practice, Provider, Sex
from rcm.practice_cache import claims_changed
from rcm.pricing import contract_in_force

SCRUB_BATCH = 1000


@dataclasses.dataclass
class ScrubContext:
    """Reference data shared by one batch of claims."""

    today: object
    contracts: dict[int, list]
    ncci: dict[tuple[str, str], list]
    mue: dict[str, int]
    settings: dict[tuple[str, int | None], bool]
    duplicates: dict[int, dict[int, list[str]]]


def _load_context(claims: list[Claim], today) -> ScrubContext:
    practice_ids = {c.practice_id for c in claims}
    payer_ids = {c.payer_id for c in claims if c.payer_id}
    codes = {line.procedure_code for c in claims for line in c.scrub_lines}
    contracts = defaultdict(list)
    for contract in PayerContract.objects.filter(practice_id__in=practice_ids, payer_id__in=payer_ids):
        contracts[contract.payer_id].append(contract)
    ncci = defaultdict(list)
    if codes:
        for edit in NcciPtpEdit.objects.filter(column1__in=codes, column2__in=codes):
            ncci[(edit.column1, edit.column2)].append(edit)
    mue = dict(MueLimit.objects.filter(procedure_code__in=codes).values_list("procedure_code", "max_units"))
    settings = {
        (row.rule_code, row.payer_id): row.enabled
        for row in ScrubRuleSetting.objects.filter(practice_id__in=practice_ids)
    }
    return ScrubContext(
        today=today,
        contracts=contracts,
        ncci=ncci,
        mue=mue,
        settings=settings,
        duplicates=_duplicates(claims),
    )


def _duplicates(claims: list[Claim]) -> dict[int, dict[int, list[str]]]:
    """Claim id -> line number -> other (not voided) claims of the same patient with the same
    procedure, modifiers and date of service."""
    patient_ids = {c.patient_id for c in claims}
    dates = {line.service_date_from for c in claims for line in c.scrub_lines}
    if not patient_ids:
        return {}
    seen = defaultdict(set)
    rows = (
        ClaimLine.objects.filter(
            claim__patient_id__in=patient_ids, service_date_from__in=dates, removed=False
        )
        .exclude(claim__status=ClaimStatus.VOIDED)
        .exclude(claim__frequency_code__in=["7", "8"])
        .values_list(
            "claim_id",
            "claim__patient_id",
            "claim__patient_control_number",
            "claim__original_claim_id",
            "procedure_code",
            "modifiers",
            "service_date_from",
        )
    )
    for claim_id, patient_id, pcn, original_id, code, modifiers, day in rows:
        seen[(patient_id, code, tuple(modifiers), day)].add((claim_id, pcn, original_id))
    result: dict[int, dict[int, list[str]]] = defaultdict(dict)
    for claim in claims:
        for line in claim.scrub_lines:
            others = [
                pcn
                for claim_id, pcn, original_id in seen[
                    (claim.patient_id, line.procedure_code, tuple(line.modifiers), line.service_date_from)
                ]
                if claim_id != claim.pk and claim_id != claim.original_claim_id and original_id != claim.pk
            ]
            if others:
                result[claim.pk][line.line_number] = others
    return result


def _enabled(rule_code: str, payer_id, settings) -> bool:
    if (rule_code, payer_id) in settings:
        return settings[(rule_code, payer_id)]
    return settings.get((rule_code, None), True)


def _contract_for(claim: Claim, context: ScrubContext):
    return contract_in_force(context.contracts.get(claim.payer_id, []), claim.service_date)


def scrub_claims(claims: list[Claim], *, today=None) -> dict[int, list[Finding]]:
    """Findings per claim id. ``claims`` must come from ``claims_for_scrub``."""
    today = today or timezone.localdate()
    context = _load_context(claims, today)
    results = {}
    for claim in claims:
        ctx = ClaimContext(
            claim=claim,
            lines=claim.scrub_lines,
            today=today,
            contract=_contract_for(claim, context),
            ncci=context.ncci,
            mue=context.mue,
            duplicates=context.duplicates.get(claim.pk, {}),
        )
        findings = []
        for code, rule in RULES.items():
            if _enabled(code, claim.payer_id, context.settings):
                findings.extend(rule.run(ctx))
        results[claim.pk] = findings
    return results


CLAIM_FIELDS = (
    "pk",
    "practice_id",
    "patient_id",
    "coverage_id",
    "payer_id",
    "billing_provider_id",
    "rendering_provider_id",
    "status",
    "service_date",
    "diagnosis_codes",
    "prior_authorization",
    "patient_control_number",
    "original_claim_id",
    "first_submitted_at",
    "frequency_code",
)
PATIENT_FIELDS = ("sex", "date_of_birth", "address_line1", "city", "state", "postal_code")
COVERAGE_FIELDS = (
    "payer_id",
    "member_id",
    "relationship",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_date_of_birth",
    "effective_date",
    "end_date",
    "priority",
)
LINE_FIELDS = (
    "pk",
    "claim_id",
    "line_number",
    "procedure_code",
    "modifiers",
    "units",
    "charge",
    "service_date_from",
    "diagnosis_pointers",
)


# Scrubbing reads many claims and writes back three fields: plain data objects with just what the rules
# read cost a fraction of model instances (the rules only read attributes and these few methods).
@dataclasses.dataclass(slots=True)
class LineView:
    pk: int
    claim_id: int
    line_number: int
    procedure_code: str
    modifiers: list
    units: object
    charge: object
    service_date_from: object
    diagnosis_pointers: list


@dataclasses.dataclass(slots=True)
class PatientView:
    sex: str
    date_of_birth: object
    address_line1: str
    city: str
    state: str
    postal_code: str

    age_on = Patient.age_on

    def get_sex_display(self) -> str:
        return dict(Sex.choices).get(self.sex, self.sex)


@dataclasses.dataclass(slots=True)
class CoverageView:
    payer_id: int
    member_id: str
    relationship: str
    subscriber_first_name: str
    subscriber_last_name: str
    subscriber_date_of_birth: object
    effective_date: object
    end_date: object
    priority: int
    payer: object = None

    is_active_on = Coverage.is_active_on


@dataclasses.dataclass(slots=True)
class ClaimView:
    pk: int
    practice_id: int
    patient_id: int
    coverage_id: int | None
    payer_id: int | None
    billing_provider_id: int
    rendering_provider_id: int | None
    status: str
    service_date: object
    diagnosis_codes: list
    prior_authorization: str
    patient_control_number: str
    original_claim_id: int | None
    first_submitted_at: object
    frequency_code: str
    patient: PatientView | None = None
    coverage: CoverageView | None = None
    practice: object = None
    billing_provider: object = None
    rendering_provider: object = None
    scrub_lines: list = dataclasses.field(default_factory=list)
    scrub_status: str = ""
    scrub_findings: list = dataclasses.field(default_factory=list)
    scrubbed_at: object = None


def claims_for_scrub(queryset) -> list[ClaimView]:
    """The claims as plain data with what the rules read: their patient and coverage, their active lines,
    and practices, providers and payers (few, shared by many claims) from one query each."""
    fields = (
        CLAIM_FIELDS
        + tuple(f"patient__{f}" for f in PATIENT_FIELDS)
        + tuple(f"coverage__{f}" for f in COVERAGE_FIELDS)
    )
    claims, by_id = [], {}
    n_claim, n_patient = len(CLAIM_FIELDS), len(PATIENT_FIELDS)
    for row in queryset.values_list(*fields):
        claim = ClaimView(*row[:n_claim])
        claim.patient = PatientView(*row[n_claim : n_claim + n_patient])
        if claim.coverage_id:
            claim.coverage = CoverageView(*row[n_claim + n_patient :])
        claims.append(claim)
        by_id[claim.pk] = claim
    for row in (
        ClaimLine.objects.filter(claim_id__in=list(by_id), removed=False)
        .order_by("claim_id", "line_number")
        .values_list(*LINE_FIELDS)
    ):
        by_id[row[1]].scrub_lines.append(LineView(*row))
    _attach_shared(claims)
    return claims


def _attach_shared(claims: list[ClaimView]) -> None:
    practices = Practice.objects.in_bulk({c.practice_id for c in claims})
    providers = Provider.objects.in_bulk(
        {c.billing_provider_id for c in claims}
        | {c.rendering_provider_id for c in claims if c.rendering_provider_id}
    )
    payers = Payer.objects.in_bulk({c.coverage.payer_id for c in claims if c.coverage_id})
    for claim in claims:
        claim.practice = practices[claim.practice_id]
        claim.billing_provider = providers[claim.billing_provider_id]
        claim.rendering_provider = providers.get(claim.rendering_provider_id)
        if claim.coverage_id:
            claim.coverage.payer = payers[claim.coverage.payer_id]


def status_of(findings: list[Finding]) -> str:
    if any(f.severity == Severity.ERROR for f in findings):
        return ScrubStatus.ERRORS
    if findings:
        return ScrubStatus.WARNINGS
    return ScrubStatus.CLEAN


def claims_scrub(*, queryset, user=None, today=None, move=True, now=None) -> dict[str, int]:
    """Scrub the claims of ``queryset`` in batches, store each claim's findings, and move clean drafts
    (and corrected claims) to ready and ready claims that now have errors back to draft. Returns counts
    per scrub status."""
    now = now or timezone.now()
    counts = {ScrubStatus.CLEAN: 0, ScrubStatus.WARNINGS: 0, ScrubStatus.ERRORS: 0}
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), SCRUB_BATCH):
        with transaction.atomic():
            batch = claims_for_scrub(
                Claim.objects.filter(pk__in=ids[start : start + SCRUB_BATCH]).order_by("pk")
            )
            results = scrub_claims(batch, today=today)
            to_ready, to_draft = [], []
            for claim in batch:
                findings = results[claim.pk]
                claim.scrub_status = status_of(findings)
                claim.scrub_findings = [f.as_dict() for f in findings]
                claim.scrubbed_at = now
                counts[claim.scrub_status] += 1
                if claim.scrub_status != ScrubStatus.ERRORS and claim.status in (
                    ClaimStatus.DRAFT,
                    ClaimStatus.CORRECTED,
                ):
                    to_ready.append(claim)
                elif claim.scrub_status == ScrubStatus.ERRORS and claim.status == ClaimStatus.READY:
                    to_draft.append(claim)
            bulk_update_values(Claim, batch, ["scrub_status", "scrub_findings", "scrubbed_at"])
            claims_changed({claim.practice_id for claim in batch})
            if move:
                claim_transition_many(
                    claim_ids=[c.pk for c in to_ready],
                    to_status=ClaimStatus.READY,
                    user=user,
                    reason="scrubber: clean",
                    at=now,
                )
                claim_transition_many(
                    claim_ids=[c.pk for c in to_draft],
                    to_status=ClaimStatus.DRAFT,
                    user=user,
                    reason="scrubber: errors found",
                    at=now,
                )
    return counts


def scrub_filter_open():
    """Claims the scrubber works on: drafts, corrected claims and ready claims."""
    return Q(status__in=[ClaimStatus.DRAFT, ClaimStatus.CORRECTED, ClaimStatus.READY])


def drafts_scrub(*, practice=None, user=None, today=None, now=None) -> dict[str, int]:
    """Scrub every draft and corrected claim (of ``practice``, or of every practice): the nightly run, so
    a draft left alone still meets the day's rules (a deadline passing, a coverage ending) and a clean one
    moves to ready. Counts per scrub status; each batch of claims is its own transaction
    (``claims_scrub``), and running it twice changes nothing more."""
    queryset = Claim.objects.filter(status__in=[ClaimStatus.DRAFT, ClaimStatus.CORRECTED])
    if practice is not None:
        queryset = queryset.filter(practice=practice)
    return claims_scrub(queryset=queryset, user=user, today=today, now=now)
