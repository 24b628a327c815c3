"""Existing denials in the workflow's terms: the old statuses mapped (open → new, appealed → appealed,
resolved → overturned, written off → written off), root cause from the reference map, unknown codes
flagged, remit date and appeal deadline filled; the status history and notes made append-only."""

import datetime

from django.db import migrations

import rcm.append_only

OLD_TO_NEW = {"open": "new", "appealed": "appealed", "resolved": "overturned", "written_off": "written_off"}
NEW_TO_OLD = {"new": "open", "in_review": "open", "upheld": "open", "overturned": "resolved"}


def forwards(apps, schema_editor):
    from denials import reference

    Denial = apps.get_model("denials", "Denial")
    PayerContract = apps.get_model("rcm", "PayerContract")
    contracts: dict[int, list] = {}
    for contract in PayerContract.objects.order_by("pk"):
        contracts.setdefault(contract.payer_id, []).append(contract)
    rows = Denial.objects.select_related("claim", "line", "remittance_claim__remittance")
    changed = []
    for denial in rows.iterator(chunk_size=2000):
        denial.status = OLD_TO_NEW.get(denial.status, denial.status)
        default = reference.root_cause_default(denial.reason_code)
        denial.category, denial.owner, denial.preventable = (
            default.category,
            default.owner,
            default.preventable,
        )
        denial.unknown_code = not reference.is_known_carc(denial.reason_code) or not all(
            reference.is_known_rarc(code) for code in denial.remark_codes
        )
        remittance = denial.remittance_claim.remittance
        denial.remit_date = remittance.payment_date or remittance.production_date or denial.created_at.date()
        day = denial.line.service_date_from if denial.line_id else denial.claim.service_date
        covering = [
            c
            for c in contracts.get(denial.claim.payer_id, [])
            if c.effective_date <= day and (c.end_date is None or day <= c.end_date)
        ]
        contract = max(covering, key=lambda c: (c.effective_date, c.pk), default=None)
        denial.appeal_deadline = (
            denial.remit_date + datetime.timedelta(days=contract.appeal_limit_days) if contract else None
        )
        changed.append(denial)
        if len(changed) >= 2000:
            Denial.objects.bulk_update(changed, _FIELDS)
            changed = []
    if changed:
        Denial.objects.bulk_update(changed, _FIELDS)


_FIELDS = [
    "status",
    "category",
    "owner",
    "preventable",
    "unknown_code",
    "remit_date",
    "appeal_deadline",
]


def backwards(apps, schema_editor):
    Denial = apps.get_model("denials", "Denial")
    for new, old in {**NEW_TO_OLD, "corrected": "open", "partly_overturned": "resolved"}.items():
        Denial.objects.filter(status=new).update(status=old)
    Denial.objects.filter(status="voided").update(status="written_off")


class Migration(migrations.Migration):
    dependencies = [("denials", "0002_workflow"), ("rcm", "0004_payer_contract_multiple_procedure_reduction")]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
        rcm.append_only.refuse_changes_trigger("denials_denialstatuschange"),
        rcm.append_only.refuse_changes_trigger("denials_denialnote"),
    ]
