"""A practice set up to bill: complete address (ZIP+4), clearinghouse, providers, payers, contracts."""

import datetime
from decimal import Decimal

import pytest

from claims.models import Clearinghouse
from claims.scrubber.ncci import ncci_load_samples
from claims.services import LineInput
from rcm.models import PayerContract
from tests.rcm.factories import CoverageFactory, PatientFactory, PayerFactory, ProviderFactory

DOS = datetime.date(2026, 3, 2)


class Billing:
    def __init__(self, practice):
        practice.address_line1 = "100 River Rd"
        practice.city = "Springfield"
        practice.state = "IL"
        practice.postal_code = "627011234"
        practice.tax_id = "371234567"
        practice.save()
        self.practice = practice
        self.clearinghouse = Clearinghouse.objects.create(
            practice=practice,
            name="Availity",
            submitter_name="Riverside Family Medicine",
            submitter_id="RIVERSIDE01",
            contact_name="Brianna Lopez",
            contact_phone="217-555-0100",
            receiver_name="Availity",
            receiver_id="030240928",
        )
        self.group = ProviderFactory(
            practice=practice,
            is_organization=True,
            first_name="",
            last_name="Riverside Family Medicine LLC",
            npi="1245319599",
            taxonomy_code="261QP2300X",
            role="billing",
        )
        self.doctor = ProviderFactory(
            practice=practice,
            first_name="Dana",
            last_name="Rivera",
            npi="1234567893",
            taxonomy_code="207Q00000X",
            role="rendering",
        )
        self.payer = PayerFactory(practice=practice, name="Acme Health", payer_id="ACME1", kind="commercial")
        self.medicare = PayerFactory(
            practice=practice, name="Medicare Part B", payer_id="00952", kind="medicare"
        )
        self.contract = PayerContract.objects.create(
            practice=practice,
            payer=self.payer,
            name="Acme PPO 2026",
            effective_date=datetime.date(2025, 1, 1),
            timely_filing_days=365,
            appeal_limit_days=180,
            prior_auth_codes=["20610"],
        )
        self.patient = PatientFactory(
            practice=practice,
            last_name="Garcia",
            first_name="Elena",
            date_of_birth=datetime.date(1968, 4, 9),
            sex="F",
            postal_code="62702",
        )
        self.coverage = CoverageFactory(
            practice=practice,
            patient=self.patient,
            payer=self.payer,
            member_id="XJH123456789",
            group_number="GRP7",
            effective_date=datetime.date(2025, 1, 1),
        )

    def claim(self, *, lines=None, diagnosis_codes=None, coverage=None, patient=None, **kwargs):
        """A draft claim through charge entry; default one 99214 at $185.00 on 2026-03-02."""
        from claims.services import claim_create

        coverage = coverage or self.coverage
        kwargs.setdefault("rendering_provider", self.doctor)
        return claim_create(
            practice=self.practice,
            patient=patient or coverage.patient,
            coverage=coverage,
            billing_provider=kwargs.pop("billing_provider", self.group),
            diagnosis_codes=diagnosis_codes or ["E11.9", "I10"],
            lines=lines
            or [
                LineInput(
                    procedure_code="99214",
                    charge=Decimal("185.00"),
                    service_date_from=DOS,
                    diagnosis_pointers=[1, 2],
                )
            ],
            **kwargs,
        )


@pytest.fixture
def billing(practice):
    ncci_load_samples()
    return Billing(practice)
