from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rcm", "0009_payer_contract_base_payer_data"),
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
