"""Forms of the plan pages. They shape the input; the services decide what is valid and say why."""

from django import forms
from django.utils import timezone

from payment_plans.models import Frequency, PaymentMethod, PlanPolicy

DATE = forms.DateInput(attrs={"type": "date"})
MONEY = {"max_digits": 12, "decimal_places": 2}


class AffordabilityForm(forms.Form):
    monthly_income = forms.DecimalField(label="Monthly household income ($)", min_value=0, **MONEY)
    household_size = forms.IntegerField(label="People in the household", min_value=1, max_value=20, initial=1)
    essential_expenses = forms.DecimalField(
        label="Essential monthly expenses ($)",
        min_value=0,
        help_text="Rent or mortgage, utilities, food, transport, insurance, child care.",
        **MONEY,
    )


class PlanTermsForm(forms.Form):
    frequency = forms.ChoiceField(choices=Frequency.choices, initial=Frequency.MONTHLY)
    installment_amount = forms.DecimalField(
        label="Installment amount ($)",
        required=False,
        min_value=0,
        help_text="Give the amount or the number of installments.",
        **MONEY,
    )
    term = forms.IntegerField(label="Number of installments", required=False, min_value=1, max_value=260)
    start_date = forms.DateField(label="First installment due", widget=DATE)
    down_payment = forms.DecimalField(label="Down payment today ($)", required=False, min_value=0, **MONEY)
    autopay = forms.BooleanField(label="Autopay", required=False)
    payment_method_token = forms.CharField(
        label="Payment method token",
        required=False,
        max_length=80,
        help_text="The payment processor's token for autopay. Never a card number.",
    )

    def clean(self):
        return _amount_or_term(super().clean())


def _amount_or_term(data: dict) -> dict:
    if data.get("installment_amount") is not None and data.get("term"):
        raise forms.ValidationError("Give the installment amount or the number of installments, not both.")
    if data.get("installment_amount") is None and not data.get("term"):
        raise forms.ValidationError("Give the installment amount or the number of installments.")
    return data


class ModifyForm(forms.Form):
    frequency = forms.ChoiceField(choices=Frequency.choices)
    installment_amount = PlanTermsForm.base_fields["installment_amount"]
    term = PlanTermsForm.base_fields["term"]
    start_date = forms.DateField(label="Next installment due", widget=DATE)
    reason = forms.CharField(max_length=255, help_text="Why the terms change (kept in the plan's history).")

    def clean(self):
        return _amount_or_term(super().clean())


class PlanPaymentForm(forms.Form):
    amount = forms.DecimalField(label="Amount ($)", min_value=0, **MONEY)
    method = forms.ChoiceField(choices=PaymentMethod.choices)
    reference = forms.CharField(
        max_length=60, required=False, help_text="Check number or authorisation code."
    )
    received_on = forms.DateField(widget=DATE, initial=timezone.localdate)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=255)


class PolicyForm(forms.ModelForm):
    class Meta:
        model = PlanPolicy
        fields = [
            "minimum_balance",
            "maximum_term_months",
            "minimum_monthly_payment",
            "down_payment_percent",
            "grace_days",
            "missed_before_default",
            "statement_reminder_days",
        ]
