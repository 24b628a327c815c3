"""The scrubber's rules. Each is a small function registered with its code, severity, message and
fix hint; it receives one claim with its reference data (``ClaimContext``) and yields findings.

Severity ``error`` blocks submission; ``warning`` does not."""

import dataclasses
import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import StrEnum

from claims.scrubber.reference import AGE_SEX_EDITS, EM_CODE, NCCI_ASSOCIATED_MODIFIERS, X_MODIFIERS
from rcm.formats import count_text, day_text, money_text
from rcm.models import SubscriberRelationship
from rcm.validators import icd10_problem, npi_is_valid


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    hint: str
    line: int | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ClaimContext:
    """One claim and everything the rules read about it, loaded in bulk by the engine."""

    claim: object
    lines: list
    today: datetime.date
    contract: object | None
    ncci: dict[tuple[str, str], list]  # (column1, column2) -> edits
    mue: dict[str, int]
    duplicates: dict[
        int, list[str]
    ]  # line number -> patient control numbers of other claims with that service


@dataclasses.dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str
    hint: str
    check: Callable[[ClaimContext], Iterable[tuple[str, int | None]]]

    def run(self, ctx: ClaimContext) -> list[Finding]:
        return [
            Finding(self.code, self.severity, message, self.hint, line) for message, line in self.check(ctx)
        ]


RULES: dict[str, Rule] = {}


def rule(code: str, severity: Severity, title: str, hint: str):
    def register(check):
        RULES[code] = Rule(code, severity, title, hint, check)
        return check

    return register


def _missing(pairs) -> list[str]:
    return [label for label, value in pairs if value in (None, "")]


@rule(
    "REQUIRED_FIELDS",
    Severity.ERROR,
    "Fields an 837P needs",
    "Complete the named fields on the practice, provider, patient or coverage record, then scrub again.",
)
def required_fields(ctx: ClaimContext):
    claim = ctx.claim
    practice, patient, coverage = claim.practice, claim.patient, claim.coverage
    if coverage is None:
        yield (
            "The claim has no insurance coverage: self-pay claims are billed to the patient, not sent.",
            None,
        )
        return
    missing = _missing(
        [
            ("practice tax ID", practice.tax_id),
            ("practice address", practice.address_line1),
            ("practice city", practice.city),
            ("practice state", practice.state),
            ("billing provider NPI", claim.billing_provider.npi),
            ("billing provider taxonomy", claim.billing_provider.taxonomy_code),
            ("patient address", patient.address_line1),
            ("patient city", patient.city),
            ("patient state", patient.state),
            ("patient ZIP", patient.postal_code),
            ("patient date of birth", patient.date_of_birth),
            ("patient sex", patient.sex),
            ("member ID", coverage.member_id),
            ("payer ID", coverage.payer.payer_id),
        ]
    )
    if len("".join(ch for ch in practice.postal_code or "" if ch.isdigit())) != 9:
        missing.append("practice ZIP+4 (the billing provider's ZIP must have 9 digits)")
    if coverage.relationship != SubscriberRelationship.SELF:
        missing += _missing(
            [
                ("subscriber last name", coverage.subscriber_last_name),
                ("subscriber first name", coverage.subscriber_first_name),
                ("subscriber date of birth", coverage.subscriber_date_of_birth),
            ]
        )
    if missing:
        yield "Missing: " + ", ".join(missing) + ".", None


@rule(
    "ICD10_INVALID",
    Severity.ERROR,
    "ICD-10-CM codes valid and billable",
    "Replace the code with a valid, most specific (billable) ICD-10-CM code.",
)
def icd10_valid(ctx: ClaimContext):
    for code in ctx.claim.diagnosis_codes:
        problem = icd10_problem(code)
        if problem:
            yield problem, None


@rule(
    "DIAGNOSIS_POINTERS",
    Severity.ERROR,
    "Diagnosis pointers",
    "Point every line at 1 to 4 of the claim's diagnoses, most relevant first.",
)
def diagnosis_pointers(ctx: ClaimContext):
    count = len(ctx.claim.diagnosis_codes)
    for line in ctx.lines:
        pointers = line.diagnosis_pointers or []
        if not pointers or len(pointers) > 4:
            yield (
                f"Line {line.line_number} must point at 1 to 4 diagnoses (it points at {len(pointers)}).",
                line.line_number,
            )
        for pointer in pointers:
            if not isinstance(pointer, int) or not 1 <= pointer <= count:
                yield (
                    f"Line {line.line_number} points at diagnosis {pointer}; the claim has {count}.",
                    line.line_number,
                )


@rule(
    "NPI_CHECK_DIGIT",
    Severity.ERROR,
    "NPI check digit",
    "Correct the provider's NPI (look it up in NPPES); a failed check digit means a typo.",
)
def npi_check(ctx: ClaimContext):
    for role, provider in (
        ("billing", ctx.claim.billing_provider),
        ("rendering", ctx.claim.rendering_provider),
    ):
        if provider is not None and not npi_is_valid(provider.npi):
            yield f"The {role} provider's NPI {provider.npi} fails the check-digit test.", None


@rule(
    "DUPLICATE_CLAIM",
    Severity.ERROR,
    "Duplicate of another claim",
    "Void one of the claims, or add modifier 76/77 (repeat procedure) or 91 (repeat test) "
    "when it was really done twice.",
)
def duplicate_claim(ctx: ClaimContext):
    for line in ctx.lines:
        others = ctx.duplicates.get(line.line_number)
        if others:
            mods = "-".join(line.modifiers)
            yield (
                (
                    f"Line {line.line_number} ({line.procedure_code}{'-' + mods if mods else ''} on "
                    f"{line.service_date_from}) is already billed on claim {', '.join(sorted(others))}."
                ),
                line.line_number,
            )


@rule(
    "MODIFIER_RULES",
    Severity.ERROR,
    "Modifier combinations",
    "Use XE/XS/XP/XU instead of 59 (not both); never 59 on E/M; 25 only on an E/M code.",
)
def modifier_rules(ctx: ClaimContext):
    for line in ctx.lines:
        mods = set(line.modifiers)
        is_em = bool(EM_CODE.match(line.procedure_code))
        if "59" in mods and mods & X_MODIFIERS:
            yield (
                (
                    f"Line {line.line_number} has 59 together with {', '.join(sorted(mods & X_MODIFIERS))}: "
                    "use one or the other."
                ),
                line.line_number,
            )
        if "59" in mods and is_em:
            yield (
                f"Line {line.line_number}: modifier 59 is not allowed on E/M code {line.procedure_code}.",
                line.line_number,
            )
        if "25" in mods and not is_em:
            yield (
                f"Line {line.line_number}: modifier 25 belongs on an E/M code, not {line.procedure_code}.",
                line.line_number,
            )


@rule(
    "MUE_UNITS",
    Severity.ERROR,
    "Units above the MUE",
    "Check the units; if more were really given, split per date of service or document and appeal.",
)
def mue_units(ctx: ClaimContext):
    for line in ctx.lines:
        limit = ctx.mue.get(line.procedure_code)
        if limit is not None and line.units > limit:
            yield (
                (
                    f"Line {line.line_number}: {line.units.normalize()} units of {line.procedure_code} "
                    f"exceed the MUE of {limit}."
                ),
                line.line_number,
            )


@rule(
    "NCCI_PTP",
    Severity.ERROR,
    "NCCI procedure-to-procedure edits",
    "Remove the column 2 code, or when the services were truly distinct add 59/XE/XS/XP/XU "
    "(modifier indicator 1 only).",
)
def ncci_ptp(ctx: ClaimContext):
    for first in ctx.lines:
        for second in ctx.lines:
            if first is second or first.service_date_from != second.service_date_from:
                continue
            for edit in ctx.ncci.get((first.procedure_code, second.procedure_code), []):
                day = first.service_date_from
                if edit.effective_date > day or (edit.deletion_date and edit.deletion_date < day):
                    continue
                if edit.modifier_indicator == "0":
                    yield (
                        (
                            f"Lines {first.line_number} and {second.line_number}: "
                            f"{second.procedure_code} is never paid with {first.procedure_code} "
                            "on the same day (NCCI, modifier indicator 0)."
                        ),
                        second.line_number,
                    )
                elif edit.modifier_indicator == "1":
                    if not (set(second.modifiers) | set(first.modifiers)) & NCCI_ASSOCIATED_MODIFIERS:
                        yield (
                            (
                                f"Lines {first.line_number} and {second.line_number}: "
                                f"{second.procedure_code} bundles into {first.procedure_code} (NCCI) "
                                "unless a distinct-service modifier applies."
                            ),
                            second.line_number,
                        )


@rule(
    "COVERAGE_INACTIVE",
    Severity.ERROR,
    "Coverage active on the date of service",
    "Check eligibility and pick the coverage in force on the date of service, or bill the patient.",
)
def coverage_inactive(ctx: ClaimContext):
    coverage = ctx.claim.coverage
    if coverage is None:
        return
    for line in ctx.lines:
        if not coverage.is_active_on(line.service_date_from):
            end = f" to {day_text(coverage.end_date)}" if coverage.end_date else ""
            yield (
                (
                    f"Line {line.line_number}: the coverage ({day_text(coverage.effective_date)}{end}) "
                    f"is not active on {day_text(line.service_date_from)}."
                ),
                line.line_number,
            )


@rule(
    "TIMELY_FILING_PASSED",
    Severity.ERROR,
    "Timely filing limit passed",
    "Submit with proof of timely filing (an earlier submission or acknowledgment) or write the charge off.",
)
def timely_filing_passed(ctx: ClaimContext):
    if ctx.contract is None:
        return
    deadline = ctx.claim.service_date + datetime.timedelta(days=ctx.contract.timely_filing_days)
    first = ctx.claim.first_submitted_at
    if first is not None and first.date() <= deadline:
        return  # sent in time once: the first submission is the proof of timely filing
    if ctx.today > deadline:
        yield (
            (
                f"The payer's timely filing limit ({ctx.contract.timely_filing_days} days) "
                f"passed on {day_text(deadline)}."
            ),
            None,
        )


@rule(
    "TIMELY_FILING_SOON",
    Severity.WARNING,
    "Timely filing limit within 14 days",
    "Submit this claim first: the filing deadline is close.",
)
def timely_filing_soon(ctx: ClaimContext):
    if ctx.contract is None:
        return
    deadline = ctx.claim.service_date + datetime.timedelta(days=ctx.contract.timely_filing_days)
    if ctx.today <= deadline <= ctx.today + datetime.timedelta(days=14):
        days_left = (deadline - ctx.today).days
        yield f"The filing deadline is {day_text(deadline)} ({count_text(days_left, 'day')} left).", None


@rule(
    "PRIOR_AUTH_MISSING",
    Severity.ERROR,
    "Prior authorization required",
    "Enter the payer's prior authorization number, or get the authorization before submitting.",
)
def prior_auth_missing(ctx: ClaimContext):
    if ctx.contract is None or ctx.claim.prior_authorization:
        return
    needs = set(ctx.contract.prior_auth_codes or [])
    for line in ctx.lines:
        if line.procedure_code in needs:
            yield (
                f"Line {line.line_number}: {line.procedure_code} needs prior authorization "
                "under this contract.",
                line.line_number,
            )


@rule(
    "AGE_SEX_CONFLICT",
    Severity.ERROR,
    "Diagnosis conflicts with the patient's age or sex",
    "Check the patient's sex and date of birth, or the diagnosis code.",
)
def age_sex_conflict(ctx: ClaimContext):
    patient = ctx.claim.patient
    age = patient.age_on(ctx.claim.service_date)
    for code in ctx.claim.diagnosis_codes:
        for prefix, sex, min_age, max_age, why in AGE_SEX_EDITS:
            if not code.startswith(prefix):
                continue
            if sex and patient.sex in ("F", "M") and patient.sex != sex:
                who = "female" if sex == "F" else "male"
                yield (
                    f"{code} ({why}) is for {who} patients; "
                    f"this patient is recorded as {patient.get_sex_display().lower()}.",
                    None,
                )
            if (min_age is not None and age < min_age) or (max_age is not None and age > max_age):
                span = f"{min_age}–{max_age}" if max_age is not None else f"{min_age} and over"
                yield (
                    f"{code} ({why}) applies to ages {span}; the patient was {age} on the date of service.",
                    None,
                )
            break


@rule(
    "CHARGE_NOT_POSITIVE",
    Severity.ERROR,
    "Zero or negative charge",
    "Enter the practice's charge for the service (the charge master has it).",
)
def charge_not_positive(ctx: ClaimContext):
    for line in ctx.lines:
        if line.charge <= Decimal("0"):
            yield f"Line {line.line_number} has a charge of {money_text(line.charge)}.", line.line_number
