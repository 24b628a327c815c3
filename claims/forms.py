"""Charge entry: the claim header form and the reading of the diagnosis and service line rows.

The rows are parallel lists in the POST (one ``diagnosis`` per diagnosis row; one ``procedure_code``,
``modifiers``, ``units``, ``charge``, ``service_date_from``, ``service_date_to`` and
``diagnosis_pointers`` per service line row), so rows can be added and removed in the browser without
renumbering. What the form cannot read (a date that is not a date, a pointer that is not a number) is
reported under the same keys the services use (``lines[2].charge``), beside the services' own errors.
"""

import dataclasses
import datetime
import re

from django import forms

from claims.services import MAX_DIAGNOSES, LineInput
from rcm.models import Coverage, Patient, Provider, ProviderRole
from rcm.tenancy import scoped
from rcm.validators import icd10_description, icd10_problem, normalize_icd10

LINE_FIELDS = (
    "service_date_from",
    "service_date_to",
    "procedure_code",
    "modifiers",
    "units",
    "charge",
    "diagnosis_pointers",
)
LINE_LABELS = {
    "service_date_from": "From",
    "service_date_to": "To",
    "procedure_code": "Code",
    "modifiers": "Modifiers",
    "units": "Units",
    "charge": "Charge",
    "diagnosis_pointers": "Dx pointers",
}
VISIBLE_DIAGNOSES = 4  # empty diagnosis rows shown before "Add diagnosis" reveals more

# The places of service billers use most (CMS codes); any two-digit code is accepted.
COMMON_PLACES_OF_SERVICE = [
    ("11", "Office"),
    ("02", "Telehealth (not in the patient's home)"),
    ("10", "Telehealth in the patient's home"),
    ("12", "Home"),
    ("19", "Off-campus outpatient hospital"),
    ("22", "On-campus outpatient hospital"),
    ("20", "Urgent care facility"),
    ("21", "Inpatient hospital"),
    ("23", "Emergency room (hospital)"),
    ("31", "Skilled nursing facility"),
    ("32", "Nursing facility"),
    ("81", "Independent laboratory"),
]

_SPLIT = re.compile(r"[\s,;/-]+")


class ClaimHeaderForm(forms.Form):
    """Who and where: patient, coverage, providers, place of service, prior authorization.
    Choices are limited to the practice's rows; the services check the rest (coverage of this patient)."""

    patient = forms.ModelChoiceField(
        queryset=Patient.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Pick the patient: search by account number or name.",
            "invalid_choice": "Pick the patient from the search results.",
        },
    )
    coverage = forms.ModelChoiceField(
        queryset=Coverage.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Pick one of the patient's coverages."},
    )
    billing_provider = forms.ModelChoiceField(
        queryset=Provider.objects.none(),
        error_messages={"required": "Pick the billing provider."},
    )
    rendering_provider = forms.ModelChoiceField(queryset=Provider.objects.none(), required=False)
    place_of_service = forms.CharField(
        max_length=2,
        initial="11",
        error_messages={
            "required": "Enter the place of service (11 for the office).",
            "max_length": "A place of service is a two-digit CMS code.",
        },
    )
    prior_authorization = forms.CharField(max_length=50, required=False)

    def __init__(self, *args, practice, patient: Patient | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.fixed_patient = patient
        if patient is not None:  # editing: the claim's patient does not change
            del self.fields["patient"]
        else:
            self.fields["patient"].queryset = scoped(Patient, practice)
        self.fields["coverage"].queryset = scoped(Coverage, practice)
        providers = scoped(Provider, practice)
        self.fields["billing_provider"].queryset = providers
        self.fields["rendering_provider"].queryset = providers

    def patient_id(self) -> int | None:
        """The chosen patient's id, bound or not, when it is one of the practice's (for re-rendering)."""
        if self.fixed_patient is not None:
            return self.fixed_patient.pk
        value = self["patient"].value()
        return int(value) if str(value or "").isdigit() else None


def provider_choices(practice) -> dict[str, list[Provider]]:
    """Active providers for the billing and rendering selects: billing entities first in the one,
    clinicians in the other; every active provider stays choosable in both."""
    providers = list(
        scoped(Provider, practice).filter(is_active=True).order_by("last_name", "first_name", "pk")
    )
    billing = sorted(providers, key=lambda p: p.role == ProviderRole.RENDERING)
    rendering = sorted(providers, key=lambda p: p.role == ProviderRole.BILLING)
    return {"billing": billing, "rendering": rendering}


@dataclasses.dataclass
class DiagnosisRow:
    position: int
    code: str = ""
    description: str = ""
    error: str = ""
    hidden: bool = False


@dataclasses.dataclass
class LineRow:
    service_date_from: str = ""
    service_date_to: str = ""
    procedure_code: str = ""
    modifiers: str = ""
    units: str = "1"
    charge: str = ""
    diagnosis_pointers: str = "1"
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def error_list(self) -> list[tuple[str, str, str]]:
        """(field, label, message) in the order of the columns."""
        return [(name, LINE_LABELS[name], self.errors[name]) for name in LINE_FIELDS if name in self.errors]

    def is_blank(self) -> bool:
        return not (self.procedure_code.strip() or self.charge.strip())


@dataclasses.dataclass
class ClaimRows:
    """What the diagnosis and line rows of a POST say, as the services take it and as the page shows it."""

    diagnosis_codes: list[str]
    lines: list[LineInput]
    diagnosis_rows: list[DiagnosisRow]
    line_rows: list[LineRow]
    errors: dict[str, str]  # the form's own reading errors, keyed like the services' errors

    def attach(self, errors: dict[str, str]) -> None:
        """Put errors keyed ``lines[N].field`` on line row N (1-based); keep ours where both speak."""
        for key, message in errors.items():
            match = re.fullmatch(r"lines\[(\d+)\]\.(\w+)", key)
            if match and 1 <= int(match[1]) <= len(self.line_rows):
                self.line_rows[int(match[1]) - 1].errors.setdefault(match[2], message)


def diagnosis_rows(codes: list[str], *, with_problems: bool = False) -> list[DiagnosisRow]:
    """Always ``MAX_DIAGNOSES`` rows; the empty ones after the first few are hidden until asked for."""
    rows = []
    last_filled = max((i for i, code in enumerate(codes, 1) if code), default=0)
    for position in range(1, MAX_DIAGNOSES + 1):
        code = codes[position - 1] if position <= len(codes) else ""
        row = DiagnosisRow(
            position=position, code=code, hidden=position > max(last_filled + 1, VISIBLE_DIAGNOSES)
        )
        if code:
            normalized = normalize_icd10(code)
            row.description = icd10_description(normalized)
            if with_problems:
                row.error = icd10_problem(normalized) or ""
        rows.append(row)
    return rows


def _date(value: str) -> datetime.date | None:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y"):
        try:
            return datetime.datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a date, no time zone
        except ValueError:
            continue
    raise ValueError(value)


def _pointer(token: str) -> int:
    """A pointer as typed: 1-12, or the CMS-1500 letter A-L."""
    if token.isdigit():
        return int(token)
    if len(token) == 1 and "A" <= token.upper() <= "L":
        return ord(token.upper()) - ord("A") + 1
    raise ValueError(token)


def read_claim_rows(data) -> ClaimRows:
    """Read the diagnosis and line rows of a POST. Wherever a value cannot be read, an error is recorded
    and the value given to the service is one it refuses too, so nothing can be saved by mistake."""
    errors: dict[str, str] = {}
    raw_codes = [" ".join(code.split()).upper() for code in data.getlist("diagnosis")][:MAX_DIAGNOSES]
    while raw_codes and not raw_codes[-1]:
        raw_codes.pop()
    rows = diagnosis_rows(raw_codes, with_problems=True)
    codes = [normalize_icd10(code) for code in raw_codes]
    seen: dict[str, int] = {}
    for row, code in zip(rows, codes, strict=False):
        if not code:
            row.error = f"Diagnosis {row.position} is empty while a later one is filled: fill them in order."
            errors.setdefault("diagnosis_codes", row.error)
        elif code in seen and not row.error:
            row.error = f"{code} is already diagnosis {seen[code]}."
        seen.setdefault(code, row.position)

    columns = {name: data.getlist(name) for name in LINE_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    line_rows = []
    for index in range(count):
        row = LineRow(
            **{
                name: (columns[name][index] if index < len(columns[name]) else "").strip()
                for name in LINE_FIELDS
            }
        )
        if not row.is_blank():
            line_rows.append(row)

    lines = []
    for number, row in enumerate(line_rows, 1):
        prefix = f"lines[{number}]"
        dates: dict[str, datetime.date | None] = {}
        for name in ("service_date_from", "service_date_to"):
            value = getattr(row, name)
            try:
                dates[name] = _date(value) if value else None
            except ValueError:
                errors[f"{prefix}.{name}"] = f"{value!r} is not a date: use MM/DD/YYYY."
                dates[name] = None
        charge = row.charge.replace("$", "").replace(",", "")
        if not charge:
            errors[f"{prefix}.charge"] = "Enter the charge."
            charge = "0"  # refused by the service too
        pointers = []
        for token in (t for t in _SPLIT.split(row.diagnosis_pointers) if t):
            try:
                pointers.append(_pointer(token))
            except ValueError:
                errors[f"{prefix}.diagnosis_pointers"] = (
                    f"Pointer {token!r} is not a diagnosis number: use 1 to {MAX_DIAGNOSES} (or A to L)."
                )
                pointers.append(0)  # refused by the service too
        lines.append(
            LineInput(
                procedure_code=row.procedure_code.upper(),
                modifiers=[m for m in _SPLIT.split(row.modifiers.upper()) if m],
                units=row.units or "1",
                charge=charge,
                service_date_from=dates["service_date_from"],
                service_date_to=dates["service_date_to"],
                diagnosis_pointers=pointers,
            )
        )
    result = ClaimRows(
        diagnosis_codes=codes, lines=lines, diagnosis_rows=rows, line_rows=line_rows, errors=errors
    )
    result.attach(errors)
    return result


def rows_for_claim(claim) -> tuple[list[DiagnosisRow], list[LineRow]]:
    """The rows of an existing claim, for the edit page."""
    lines = [
        LineRow(
            service_date_from=line.service_date_from.isoformat(),
            service_date_to=line.service_date_to.isoformat()
            if line.service_date_to != line.service_date_from
            else "",
            procedure_code=line.procedure_code,
            modifiers=" ".join(line.modifiers),
            units=f"{line.units.normalize():f}",
            charge=f"{line.charge:.2f}",
            diagnosis_pointers=" ".join(str(p) for p in line.diagnosis_pointers),
        )
        for line in claim.lines.filter(removed=False).order_by("line_number")
    ]
    return diagnosis_rows(list(claim.diagnosis_codes)), lines


def blank_rows() -> tuple[list[DiagnosisRow], list[LineRow]]:
    return diagnosis_rows([]), [LineRow()]
