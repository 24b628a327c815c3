"""The practice's reading of a CARC: its own ``RootCauseRule`` where it has one, else the reference's
default (``denials.reference.root_cause_default``). The one place both are combined."""

from denials.models import RootCauseRule
from denials.reference import RootCauseDefault, root_cause_default


def root_causes_for(practice_id: int, codes) -> dict[str, RootCauseDefault]:
    """CARC → reading, for ``codes`` (one query)."""
    codes = set(codes)
    found = {
        rule.reason_code: RootCauseDefault(
            rule.reason_code, rule.category, rule.owner, rule.preventable, rule.what_to_do
        )
        for rule in RootCauseRule.objects.filter(practice_id=practice_id, reason_code__in=codes)
    }
    return {code: found.get(code) or root_cause_default(code) for code in codes}
