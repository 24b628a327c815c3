"""Building 837P for 10,000 claims (one payer's claims of the benchmark practice, in batches of at most
5,000 as ``claims_submit`` makes them): seconds to load + build, and, with --validate, seconds of pyx12
validation of the same files. Nothing is written to the database."""

import argparse

from common import Timer, bench_practice, emit
from django.utils import timezone

from claims.edi.p837 import Envelope, build_837p, claims_for_837, prior_adjudications
from claims.edi.validation import validate_x12
from claims.models import Claim, Clearinghouse
from claims.submission.batches import MAX_CLAIMS_PER_BATCH

parser = argparse.ArgumentParser()
parser.add_argument("--claims", type=int, default=10_000)
parser.add_argument("--validate", action="store_true")
args = parser.parse_args()

practice = bench_practice()
clearinghouse = Clearinghouse.objects.filter(practice=practice).first()
ids = list(
    Claim.objects.filter(coverage__isnull=False)
    .exclude(status="voided")
    .order_by("payer_id", "pk")
    .values_list("pk", flat=True)[: args.claims]
)


def envelope(number):
    return Envelope(
        sender_id=clearinghouse.submitter_id,
        receiver_id=clearinghouse.receiver_id,
        submitter_name=clearinghouse.submitter_name,
        contact_name=clearinghouse.contact_name,
        contact_phone=clearinghouse.contact_phone,
        receiver_name=clearinghouse.receiver_name,
        interchange_control_number=900000000 + number,
        group_control_number=900000000 + number,
        transaction_control_number="0001",
        production=False,
        created_at=timezone.localtime(),
    )


files = []
with Timer() as timer:
    for number, start in enumerate(range(0, len(ids), MAX_CLAIMS_PER_BATCH)):
        claims = list(
            claims_for_837(
                Claim.objects.filter(pk__in=ids[start : start + MAX_CLAIMS_PER_BATCH]).order_by(
                    "payer_id", "pk"
                )
            )
        )
        files.append(build_837p(envelope=envelope(number), claims=claims, prior=prior_adjudications(claims)))
segments = sum(text.count("~") for text in files)
result = dict(
    name="837p_build",
    claims=len(ids),
    files=len(files),
    segments=segments,
    seconds=timer.seconds,
    bytes=sum(len(t) for t in files),
)
if args.validate:
    findings = 0
    with Timer() as validation:
        for text in files:
            ok, found = validate_x12(text)
            findings += len(found)
    result.update(
        name="837p_build_validate",
        validate_seconds=validation.seconds,
        seconds=timer.seconds + validation.seconds,
        build_seconds=timer.seconds,
        findings=findings,
    )
emit(**result)
