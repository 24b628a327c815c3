"""``ledger_check`` on a random sample of 5,000 claims of the benchmark practice (set-based: a fixed
number of queries whatever the sample), and ``bench_check``'s full set of checks."""

import random

from common import Timer, bench_practice, emit

from claims.ledger import ledger_check
from claims.models import Claim
from devdata.bench import bench_check

practice = bench_practice()
ids = list(Claim.objects.filter(practice=practice).values_list("pk", flat=True))
sample = random.Random(7).sample(ids, min(5000, len(ids)))  # noqa: S311
with Timer() as timer:
    problems = ledger_check(practice=practice, claim_ids=sample)
with Timer() as full:
    report = bench_check(sample=5000, seed=7)
emit(
    name="ledger_check",
    claims=len(sample),
    seconds=timer.seconds,
    problems=len(problems),
    bench_check_seconds=full.seconds,
    bench_check_problems=len(report.problems),
)
