"""Scrubbing N claims (default 100,000, or all there are) with ``claims_scrub``: claims/s.

Floor: loading the same claims with their lines and joins (``claims_for_scrub``), which the scrubber
cannot avoid. Rolled back afterwards (findings are not kept), claims not moved (``move=False``)."""

import argparse

from common import Timer, emit, rolled_back

from claims.models import Claim
from claims.scrubber.engine import claims_for_scrub, claims_scrub

parser = argparse.ArgumentParser()
parser.add_argument("--claims", type=int, default=100_000)
args = parser.parse_args()

ids = list(Claim.objects.order_by("pk").values_list("pk", flat=True)[: args.claims])
line_count = (
    Claim.lines.rel.related_model.objects.filter(claim_id__in=ids, removed=False).count()
    if len(ids) < 60000
    else None
)

with Timer() as floor:
    for start in range(0, len(ids), 1000):
        claims_for_scrub(Claim.objects.filter(pk__in=ids[start : start + 1000]))

with Timer() as timer:
    counts = rolled_back(lambda: claims_scrub(queryset=Claim.objects.filter(pk__in=ids), move=False))

emit(
    name="scrub",
    claims=len(ids),
    lines=line_count,
    seconds=timer.seconds,
    rate=len(ids) / timer.seconds,
    floor_seconds=floor.seconds,
    counts={str(k): v for k, v in (counts or {}).items()},
)
