"""Forms of the payers and contracts pages: they parse and show errors; the services decide."""

from django import forms

from rcm.contracts.fee_schedules import MAX_BYTES
from rcm.contracts.selectors import base_payer_choices
from rcm.models import Payer, PayerContract

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PayerForm(forms.ModelForm):
    class Meta:
        model = Payer
        fields = [
            "name",
            "payer_id",
            "kind",
            "address_line1",
            "city",
            "state",
            "postal_code",
            "phone",
            "no_response_days",
        ]


class ContractForm(forms.ModelForm):
    prior_auth_codes = forms.CharField(
        required=False,
        label="Prior authorization codes",
        help_text="Procedure codes that need prior authorization, separated by spaces or commas.",
        widget=forms.TextInput(attrs={"size": 60, "class": "mono"}),
    )

    class Meta:
        model = PayerContract
        fields = [
            "name",
            "effective_date",
            "end_date",
            "in_network",
            "timely_filing_days",
            "appeal_limit_days",
            "prior_auth_codes",
            "pricing_method",
            "base_payer",
            "percent",
            "multiple_procedure_reduction_percent",
            "underpayment_tolerance_amount",
            "underpayment_tolerance_percent",
            "renegotiation_date",
            "notes",
        ]
        labels = {
            "in_network": "In network",
            "timely_filing_days": "Timely filing limit (days)",
            "appeal_limit_days": "Appeal limit (days)",
            "base_payer": "Base payer",
            "percent": "Percent (%)",
            "multiple_procedure_reduction_percent": "Multiple-procedure reduction (%)",
            "underpayment_tolerance_amount": "Underpayment tolerance ($)",
            "underpayment_tolerance_percent": "Underpayment tolerance (%)",
        }
        widgets = {
            "effective_date": DATE,
            "end_date": DATE,
            "renegotiation_date": DATE,
            "notes": forms.Textarea(attrs={"rows": 3, "cols": 60}),
        }

    def __init__(self, *args, practice, payer, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["prior_auth_codes"] = " ".join(self.instance.prior_auth_codes or [])
        self.fields["base_payer"].queryset = base_payer_choices(practice, exclude_payer_id=payer.pk)
        self.fields["base_payer"].help_text = (
            "For % of a base schedule: its contract in force on each date of service is the base "
            "(e.g. Medicare: each year's schedule prices that year's lines)."
        )

    def _post_clean(self):
        # The services run the model's checks (with the practice and payer set) and the overlap rule.
        pass


class RateYearForm(forms.Form):
    effective_date = forms.DateField(label="New rates from", widget=DATE)
    name = forms.CharField(label="Name of the new contract", required=False, max_length=120)


class FeeScheduleUploadForm(forms.Form):
    file = forms.FileField(
        label="Fee schedule file (.csv or .xlsx)",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; "
                f"the limit is {MAX_BYTES // 1024 // 1024} MB. "
                "Nothing was saved."
            )
        return upload
