"""The dashboard's filters: a date range and one scope (the whole practice, a payer, a provider or a place of
service), checked against the current practice."""

import datetime
from decimal import Decimal

from django import forms

from kpis.definitions import DEFINITIONS
from kpis.measures import SELF_PAY
from kpis.models import Dimension
from kpis.selectors import Scope
from rcm.models import Payer, Provider
from rcm.tenancy import scoped

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366


class KpiFilterForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    scope = forms.ChoiceField(required=False, label="Payer or provider")

    def __init__(self, data, *, practice, default_end: datetime.date):
        super().__init__(data)
        self.default_end = default_end
        self.fields["end"].initial = default_end
        self.fields["start"].initial = default_end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        payers = [
            (f"payer:{pk}", name)
            for pk, name in scoped(Payer, practice).order_by("name").values_list("pk", "name")
        ]
        providers = [
            (f"provider:{p.pk}", str(p))
            for p in scoped(Provider, practice)
            .order_by("last_name", "first_name")
            .only("pk", "first_name", "last_name", "credentials", "is_organization")
        ]
        self.fields["scope"].choices = [
            ("", "Whole practice"),
            ("Payers", [*payers, (f"payer:{SELF_PAY}", "Self-pay")]),
            ("Providers", providers),
        ]

    def clean(self):
        data = super().clean()
        end = data.get("end") or self.default_end
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The range starts after it ends.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError("Choose a range of at most three years.")
        data["start"], data["end"] = start, end
        return data

    def range_and_scope(self) -> tuple[datetime.date, datetime.date, Scope]:
        """The valid filters, or the defaults when the form is not valid."""
        if self.is_valid():
            data = self.cleaned_data
            return data["start"], data["end"], scope_from(data.get("scope", ""))
        end = self.default_end
        return end - datetime.timedelta(days=DEFAULT_DAYS - 1), end, Scope()


def scope_from(value: str) -> Scope:
    dimension, _, key = (value or "").partition(":")
    if dimension in (Dimension.PAYER, Dimension.PROVIDER, Dimension.PLACE_OF_SERVICE) and key:
        return Scope(dimension, key)
    return Scope()


def targeted_definitions():
    """The KPIs with a target band (a direction), in the dashboard's order."""
    return [d for d in DEFINITIONS if d.better is not None and d.computed]


class KpiTargetsForm(forms.Form):
    """One row per KPI with a direction: the practice's good and warning lines (empty good: the default)."""

    def __init__(self, data=None, *, current: dict[str, tuple[Decimal | None, Decimal | None]]):
        super().__init__(data)
        self.rows = []
        for definition in targeted_definitions():
            good, warn = current.get(definition.slug, (None, None))
            unit = {"percent": "%", "days": "days"}.get(definition.unit, "")
            for part, initial in (("good", good), ("warn", warn)):
                self.fields[f"{definition.slug}-{part}"] = forms.DecimalField(
                    required=False,
                    min_value=0,
                    max_digits=10,
                    decimal_places=2,
                    initial=initial,
                    label=f"{definition.name}: {'target' if part == 'good' else 'warning to'} ({unit})",
                    widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
                )
            self.rows.append(
                {
                    "definition": definition,
                    "good": self[f"{definition.slug}-good"],
                    "warn": self[f"{definition.slug}-warn"],
                }
            )

    def bands(self) -> dict[str, tuple[Decimal | None, Decimal | None]]:
        data = self.cleaned_data
        return {d.slug: (data[f"{d.slug}-good"], data[f"{d.slug}-warn"]) for d in targeted_definitions()}


class RevenueCycleCostForm(forms.Form):
    """One month's revenue-cycle cost, entered or corrected (the service checks the month has started)."""

    month = forms.DateField(
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": "Enter the month as YYYY-MM.", "required": "Choose the month."},
    )
    amount = forms.DecimalField(
        label="Cost ($)",
        max_digits=12,
        decimal_places=2,
        error_messages={
            "invalid": "Enter the cost as a number of dollars, such as 1500.00.",
            "required": "Enter the month's cost.",
            "max_decimal_places": "Enter dollars and cents: at most 2 decimal places.",
            "max_digits": "That is more than the app can store: check the amount.",
            "max_whole_digits": "That is more than the app can store: check the amount.",
        },
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    note = forms.CharField(required=False, max_length=200, label="Note (what it covers)")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount < 0:
            raise forms.ValidationError("A cost cannot be negative.")
        return amount
