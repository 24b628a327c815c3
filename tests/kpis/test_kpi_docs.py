"""docs/kpis.md lists each definition exactly as the code has it."""

from pathlib import Path

import pytest

from kpis.definitions import DEFINITIONS

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "kpis.md").read_text()


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.slug)
def test_the_docs_repeat_the_definition_word_for_word(definition):
    section = DOCS.split(f"### {definition.name} (`{definition.slug}`)\n", 1)[1].split("\n### ", 1)[0]
    assert f"- Formula: {definition.formula}\n" in section
    assert f"- Numerator: {definition.numerator}\n" in section
    assert f"- Denominator: {definition.denominator}\n" in section
    assert f"- Period rule: {definition.period_rule}\n" in section
    if definition.needs:
        assert f"**Not computed: needs {definition.needs}.**" in section
