"""Forms of the patient account and the collections worklist. They only shape the input: the services
decide what is valid and say why (their ValidationErrors are shown on the form)."""

from django import forms
from django.utils import timezone

from payment_plans.models import AccountHoldKind, CallOutcome, PaymentMethod

DATE = forms.DateInput(attrs={"type": "date"})


class PaymentForm(forms.Form):
    amount = forms.CharField(max_length=20, help_text="Dollars and cents, e.g. 45.00")
    method = forms.ChoiceField(choices=PaymentMethod.choices)
    reference = forms.CharField(
        max_length=64,
        required=False,
        help_text="Check number or card authorisation code. Never a card number.",
    )
    received_on = forms.DateField(widget=DATE, initial=timezone.localdate)
    claim = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Leave empty to pay the oldest balances first.",
    )

    def __init__(self, *args, claims=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["claim"].choices = [("", "Oldest balances first")] + [
            (c.pk, f"{c.patient_control_number} · {c.service_date:%m/%d/%Y} · owes {c.patient_balance}")
            for c in claims
        ]


class RefundForm(forms.Form):
    amount = forms.CharField(max_length=20)
    method = forms.ChoiceField(choices=PaymentMethod.choices, initial=PaymentMethod.CHECK)
    reference = forms.CharField(max_length=64, required=False)
    reason = forms.CharField(max_length=255, required=False)


class NoteForm(forms.Form):
    outcome = forms.ChoiceField(choices=CallOutcome.choices, initial=CallOutcome.NOTE)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
    promise_amount = forms.CharField(max_length=20, required=False, label="Promised amount")
    promise_date = forms.DateField(widget=DATE, required=False, label="Promised by")
    follow_up_on = forms.DateField(widget=DATE, required=False, label="Follow up on")


class HoldForm(forms.Form):
    kind = forms.ChoiceField(choices=AccountHoldKind.choices)
    reason = forms.CharField(max_length=255, required=False)


def form_add_errors(form, error) -> None:
    """Put a service's ValidationError on the form: keyed errors on their field when it exists."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for each in errors:
                form.add_error(target, each.messages[0] if hasattr(each, "messages") else str(each))
    else:
        for message in error.messages:
            form.add_error(None, message)
