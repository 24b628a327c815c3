"""Claims reaches the CARC/RARC reference through its port, without importing denials: once apps are ready
the port answers with the denials reference, and without a registered reference it refuses loudly."""

import ast
import pathlib

import pytest
from django.conf import settings

from claims.remittances import reason_codes
from denials import reference


def test_the_denials_app_registers_its_reference_when_apps_are_ready():
    assert reason_codes.registered() is reference


@pytest.mark.parametrize(("group", "reason"), [("CO", "45"), ("CO", "50"), ("PR", "1"), ("OA", "999")])
def test_the_port_answers_as_the_reference(group, reason):
    assert reason_codes.is_denial(group, reason) is reference.is_denial(group, reason)
    assert reason_codes.adjustment_words(group, reason) == reference.adjustment_words(group, reason)


def test_the_port_words_and_rules_for_a_few_codes():
    assert reason_codes.is_denial("CO", "45") is False
    assert reason_codes.is_denial("CO", "50") is True
    assert reason_codes.adjustment_words("PR", "1") == "PR-1: deductible (patient responsibility)"
    assert (
        reason_codes.rarc_words("N130")
        == "consult plan benefit documents or guidelines for coverage information"
    )
    assert reason_codes.rarc_words("X1") == "RARC X1 (not in our reference)"


def test_without_a_registered_reference_the_port_refuses(monkeypatch):
    monkeypatch.setattr(reason_codes, "_registered", [])
    message = "No CARC/RARC reference is registered"
    with pytest.raises(reason_codes.ReferenceNotRegistered, match=message):
        reason_codes.is_denial("CO", "50")
    with pytest.raises(reason_codes.ReferenceNotRegistered, match=message):
        reason_codes.adjustment_words("CO", "45")
    with pytest.raises(reason_codes.ReferenceNotRegistered, match=message):
        reason_codes.rarc_words("N130")


def test_registering_replaces_the_reference(monkeypatch):
    monkeypatch.setattr(reason_codes, "_registered", [])

    class Fixed:
        def is_denial(self, group: str, reason: str) -> bool:
            return True

        def adjustment_words(self, group: str, reason: str) -> str:
            return "fixed"

        def rarc_words(self, code: str) -> str:
            return "fixed remark"

    reason_codes.register(reference)
    reason_codes.register(Fixed())
    assert (reason_codes.is_denial("PR", "1"), reason_codes.adjustment_words("CO", "45")) == (True, "fixed")
    assert reason_codes.rarc_words("N130") == "fixed remark"


def test_claims_never_imports_denials():
    # Dependencies point one way (denials reads claims); the port is how claims reaches the reference.
    importers = []
    for path in sorted(pathlib.Path(settings.BASE_DIR, "claims").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name == "denials" or name.startswith("denials.") for name in names):
                importers.append(str(path.relative_to(settings.BASE_DIR)))
    assert importers == []
