# The old field goes in its own migration: on PostgreSQL the copy in 0008 leaves deferred foreign-key checks
# pending until its transaction commits, and a table with pending trigger events cannot be altered.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rcm", "0008_payer_contract_base_payer"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="payercontract",
            name="base_contract",
        ),
        migrations.AlterField(
            model_name="payercontract",
            name="pricing_method",
            field=models.CharField(
                choices=[
                    ("fee_schedule", "Fee schedule"),
                    ("percent_of_base", "% of a base payer's fee schedule"),
                    ("percent_of_charges", "% of billed charges"),
                ],
                default="fee_schedule",
                max_length=20,
            ),
        ),
    ]
