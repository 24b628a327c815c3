from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def base_payer_from_base_contract(apps, schema_editor):
    """A % of base contract named one contract of the base payer: it now names that contract's payer, whose
    contract in force on each date of service is the base (the same contract for the dates it covers)."""
    PayerContract = apps.get_model("rcm", "PayerContract")
    PayerContract.objects.filter(base_contract__isnull=False).update(
        base_payer_id=Subquery(
            PayerContract.objects.filter(pk=OuterRef("base_contract_id")).values("payer_id")[:1]
        )
    )


def base_contract_from_base_payer(apps, schema_editor):
    """Back to one fixed base contract: the base payer's fee schedule contract in force on the contract's
    effective date, else its latest fee schedule contract (the nearest the old field can say)."""
    PayerContract = apps.get_model("rcm", "PayerContract")
    for contract in PayerContract.objects.filter(base_payer__isnull=False):
        schedules = PayerContract.objects.filter(
            practice_id=contract.practice_id, payer_id=contract.base_payer_id, pricing_method="fee_schedule"
        ).order_by("-effective_date", "-pk")
        base = (
            schedules.filter(effective_date__lte=contract.effective_date)
            .filter(models.Q(end_date__isnull=True) | models.Q(end_date__gte=contract.effective_date))
            .first()
            or schedules.first()
        )
        if base is not None:
            PayerContract.objects.filter(pk=contract.pk).update(base_contract_id=base.pk)


class Migration(migrations.Migration):
    dependencies = [
        ("rcm", "0008_payer_contract_base_payer"),
    ]

    operations = [
        migrations.RunPython(base_payer_from_base_contract, base_contract_from_base_payer, elidable=True),
    ]
