"""Validators for the identifiers and codes of US medical billing. Each error names the value and why."""

import re
from functools import lru_cache

from django.core.exceptions import ValidationError

_PROCEDURE_RE = re.compile(r"^(\d{5}|\d{4}[FTU]|[A-V]\d{4})$")
_MODIFIER_RE = re.compile(r"^[A-Z0-9]{2}$")
_POS_RE = re.compile(r"^\d{2}$")


def npi_is_valid(npi: str) -> bool:
    """Luhn check over "80840" + the NPI's first nine digits; the tenth digit is the check digit."""
    if not npi or len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def validate_npi(value: str) -> None:
    if not value or len(value) != 10 or not value.isdigit():
        raise ValidationError(f"NPI {value!r} must be exactly 10 digits.", code="npi_format")
    if not npi_is_valid(value):
        raise ValidationError(
            f"NPI {value} fails the check-digit test: it is mistyped.", code="npi_check_digit"
        )


@lru_cache(maxsize=1)
def _icd10():
    # Loading the ICD-10-CM tables takes a second or two: only when a code is first checked.
    import simple_icd_10_cm

    return simple_icd_10_cm


def normalize_icd10(code: str) -> str:
    """Upper case, no spaces, with the dot after the third character (the form the tables use)."""
    code = (code or "").strip().upper().replace(" ", "")
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


@lru_cache(maxsize=20000)
def icd10_problem(code: str) -> str | None:
    """None when ``code`` is a billable ICD-10-CM code; otherwise the reason in plain words."""
    cm = _icd10()
    normalized = normalize_icd10(code)
    if not normalized or not cm.is_valid_item(normalized):
        return f"{code!r} is not an ICD-10-CM code."
    if not cm.is_leaf(normalized):
        children = cm.get_children(normalized)
        example = ", ".join(children[:3])
        return (
            f"{normalized} ({cm.get_description(normalized)}) is a header code, not billable: "
            f"use a more specific code under it (for example {example})."
        )
    return None


def icd10_description(code: str) -> str:
    try:
        return _icd10().get_description(normalize_icd10(code))
    except ValueError:
        return ""


def validate_procedure_code(code: str) -> None:
    if not _PROCEDURE_RE.match(code or ""):
        raise ValidationError(
            f"Procedure code {code!r} is not a CPT (5 digits, or 4 digits + F/T/U) or HCPCS Level II "
            "(a letter A-V + 4 digits) code.",
            code="procedure_code",
        )


def validate_modifier(code: str) -> None:
    if not _MODIFIER_RE.match(code or ""):
        raise ValidationError(f"Modifier {code!r} must be two letters or digits.", code="modifier")


def validate_place_of_service(code: str) -> None:
    if not _POS_RE.match(code or ""):
        raise ValidationError(
            f"Place of service {code!r} must be a two-digit CMS code (e.g. 11).", code="pos"
        )
