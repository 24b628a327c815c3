"""EXPLAIN (ANALYZE, BUFFERS) of the queries the hot pages run, on the benchmark database: every query a
selector or page makes is captured, explained, and checked for sequential scans of the big tables.
Writes a section of docs/benchmarks.md (between the explain markers) and the plans to var/bench/plans.txt."""

import re

from common import ROOT, bench_practice
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from claims.models import Claim, ClaimStatus
from claims.queues.selectors import QUEUES, queue_claims
from claims.selectors import ar_aging, claim_list_filtered, claim_status_counts, patient_ar_totals
from rcm.models import User

BIG = (
    "claims_claim",
    "claims_claimline",
    "claims_transaction",
    "claims_claimstatuschange",
    "rcm_patient",
    "rcm_coverage",
    "claims_remittanceclaim",
    "claims_remittanceline",
    "claims_remittanceadjustment",
    "denials_denial",
    "rcm_auditevent",
)
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:explain:begin -->", "<!-- bench:explain:end -->"

practice = bench_practice()
detail_id = (
    Claim.objects.filter(practice=practice, status=ClaimStatus.PAID)
    .order_by("pk")
    .values_list("pk", flat=True)[500]
)
biller = Client()
biller.force_login(User.objects.get(username="bench-biller"))

HOT = {
    "claim list, first page (by DOS)": lambda: list(claim_list_filtered(practice)[:50]),
    "claim list, status=denied": lambda: list(claim_list_filtered(practice, status="denied")[:50]),
    "claim list, sorted by balance": lambda: list(claim_list_filtered(practice, sort="-balance")[:50]),
    "claim status counts (landing, list)": lambda: claim_status_counts(practice),
    "A/R aging (landing)": lambda: ar_aging(practice),
    "patient A/R totals (landing)": lambda: patient_ar_totals(practice),
    **{
        f"queue {q.slug} (first 50 + count)": (
            lambda q=q: (list(queue_claims(practice, q.slug)[:50]), queue_claims(practice, q.slug).count())
        )
        for q in QUEUES
    },
    "claim detail page (all its queries)": lambda: biller.get(f"/claims/{detail_id}/"),
}

rows, plans = [], []
for name, function in HOT.items():
    cache.clear()  # the SQL a cold cache runs (rcm.practice_cache): what the plans must keep cheap
    with CaptureQueriesContext(connection) as captured:
        function()
    seq_scans, total_ms = [], 0.0
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        total_ms += float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1))
        for table in re.findall(r"Seq Scan on (\w+)", plan):
            if table in BIG:
                seq_scans.append(table)
        plans.append(f"=== {name}\n{sql}\n{plan}\n")
    rows.append((name, len(captured.captured_queries), total_ms, sorted(set(seq_scans))))

lines = [
    BEGIN,
    "",
    f"Practice bench-001 ({Claim.objects.filter(practice=practice).count():,} claims of "
    f"{Claim.objects.count():,}). Plans: `var/bench/plans.txt`.",
    "",
    "| hot path | queries | execution ms (sum, EXPLAIN ANALYZE) | sequential scans of big tables |",
    "|---|---|---|---|",
]
for name, count, ms, scans in rows:
    lines.append(f"| {name} | {count} | {ms:.1f} | {', '.join(scans) if scans else 'none'} |")
lines.append(END)
text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
if BEGIN not in text:
    text += f"\n{BEGIN}\n{END}\n"
before, _, rest = text.partition(BEGIN)
_, _, after = rest.partition(END)
DOC.write_text(before + "\n".join(lines) + after)
(ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
(ROOT / "var" / "bench" / "plans.txt").write_text("\n".join(plans))
for row in rows:
    print(row)
