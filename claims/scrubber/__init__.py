"""The claim scrubber: small rules, each with a code, a severity, a plain message and a fix hint,
run together over many claims at once with their reference data loaded in bulk."""

from claims.scrubber.engine import ScrubContext, scrub_claims
from claims.scrubber.rules import RULES, Finding, Severity

__all__ = ["RULES", "Finding", "ScrubContext", "Severity", "scrub_claims"]
