"""A 10,000-claim 835 (several ST/SE sets in one file: one per payer, built with the tests' era_builder)
paying claims that wait for their remittance, in a practice made for it (``bench-era-001``, made by
``--setup`` once). Modes, each run in its own process:

- ``post``: ``x12_import(validate=False)``: read, match, post (the work the target is about);
- ``import``: ``x12_import()`` as the import command and upload page run it (pyx12 validation included);
- ``pyx12``: pyx12 alone on the same file (the floor the issue compares with);
- ``read``: a plain read of the file from disk (the other floor).

Posting runs inside a transaction that is rolled back, so each run posts the same file afresh."""

import argparse
import sys
from decimal import ROUND_HALF_UP, Decimal

from common import ROOT, Timer, emit, rolled_back
from django.utils import timezone

from claims.models import Claim, ClaimStatus
from rcm.models import Practice

sys.path.insert(0, str(ROOT))
from tests.claims.era_builder import interchange, transaction_set  # noqa: E402

FILE = ROOT / "var" / "bench" / "era-10000.835"
SLUG = "bench-era-001"

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=["setup", "post", "import", "pyx12", "read"], default="post")
parser.add_argument("--claims", type=int, default=10_000)
args = parser.parse_args()


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def setup() -> None:
    from devdata.bench import BenchOptions, bench_data_build

    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is None:
        # About 5% of claims are self-pay or never reach the payer: make enough.
        bench_data_build(
            BenchOptions(
                claims=int(args.claims * 1.15),
                practices=1,
                seed=835,
                stop_after_submission=True,
                slug_prefix="bench-era-",
            )
        )
        practice = Practice.objects.get(slug=SLUG)
    waiting = list(
        Claim.objects.filter(practice=practice, status__in=[ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED])
        .select_related("payer")
        .prefetch_related("lines")
        .order_by("payer_id", "pk")[: args.claims]
    )
    if len(waiting) < args.claims:
        sys.exit(f"only {len(waiting)} claims wait for a remittance in {SLUG}")
    sets, by_payer = [], {}
    for claim in waiting:
        by_payer.setdefault(claim.payer, []).append(claim)
    for number, (payer, claims) in enumerate(by_payer.items(), 1):
        payments = []
        for claim in claims:
            services, paid_total, pr_total = [], Decimal("0"), Decimal("0")
            for line in claim.lines.all():
                allowed = _money(line.charge * Decimal("0.62"))
                coinsurance = _money(allowed * Decimal("0.20"))
                paid = allowed - coinsurance
                services.append(
                    {
                        "code": line.procedure_code,
                        "mods": line.modifiers,
                        "charge": line.charge,
                        "paid": paid,
                        "date": claim.service_date.strftime("%Y%m%d"),
                        "lcn": line.line_control_number,
                        "cas": [("CO", "45", line.charge - allowed), ("PR", "2", coinsurance)],
                    }
                )
                paid_total += paid
                pr_total += coinsurance
            payments.append(
                {
                    "pcn": claim.patient_control_number,
                    "charge": claim.charge_total,
                    "paid": paid_total,
                    "pr": pr_total,
                    "payer_claim": f"P{claim.pk:012d}",
                    "services": services,
                }
            )
        sets.append(
            transaction_set(
                st=f"{number:04d}",
                trace=f"BENCH{payer.payer_id}{number:04d}",
                payer_name=payer.name.upper(),
                payer_id=payer.payer_id,
                payer_tin=f"1{payer.payer_id}",
                payee_name=practice.name.upper(),
                payee_npi=practice.npi,
                payment_date=timezone.localdate().strftime("%Y%m%d"),
                claims=payments,
            )
        )
    FILE.parent.mkdir(parents=True, exist_ok=True)
    FILE.write_text(interchange(*sets, control="000000835"))
    text = FILE.read_text()
    emit(
        name="835_setup",
        claims=len(waiting),
        transaction_sets=len(sets),
        segments=text.count("~"),
        bytes=len(text),
    )


if args.mode == "setup":
    setup()
    sys.exit(0)

if not FILE.exists():
    sys.exit("run bench_835.py --mode setup first")

with Timer() as reading:
    text = FILE.read_text()
segments = text.count("~")
if args.mode == "read":
    emit(name="835_read", seconds=reading.seconds, segments=segments)
elif args.mode == "pyx12":
    from claims.edi.validation import validate_x12

    with Timer() as timer:
        ok, findings = validate_x12(text)
    emit(name="835_pyx12", seconds=timer.seconds, segments=segments, findings=len(findings))
else:
    from claims.edi.intake import x12_import

    practice = Practice.objects.get(slug=SLUG)
    validate = args.mode == "import"

    def run():
        result = x12_import(
            practice=practice, file_name=FILE.name, content=text, source="command", validate=validate
        )
        return result.file.status, result.file.error, result.file.outcome

    with Timer() as timer:
        status, error, outcome = rolled_back(run)
    if status != "applied":
        sys.exit(f"the file was refused: {error}")
    emit(name=f"835_{args.mode}", seconds=timer.seconds, segments=segments, outcome=outcome)
