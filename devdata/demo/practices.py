"""The two demo practices as data: who they are, their clinicians, payers, patients and share of claims.

Riverside is the main practice (family medicine, all ages, Medicare-heavy); Lakeview is a small pediatric
practice that exists to show tenancy (the demo biller works for both, so the practice switcher appears).
"""

import dataclasses
from decimal import Decimal

from devdata.demo.payers import LAKEVIEW_PAYERS, RIVERSIDE_PAYERS, PayerProfile
from rcm.roles import Role


@dataclasses.dataclass(frozen=True)
class ClinicianSpec:
    first_name: str
    last_name: str
    credentials: str
    taxonomy_code: str
    panel_weight: int  # share of the practice's patients who see this clinician as their usual provider


@dataclasses.dataclass(frozen=True)
class PracticeSpec:
    name: str
    slug: str
    address_line1: str
    city: str
    state: str
    postal_code: str
    area_code: str
    group_taxonomy: str
    clinicians: tuple[ClinicianSpec, ...]
    payers: tuple[PayerProfile, ...]
    claim_share: Decimal  # of the claims asked for
    max_patients: int
    pediatric: bool
    # demo username -> role in this practice (the users themselves come from ``rcm.demo.DEMO_USERS``)
    members: dict[str, str]
    # (city, postal code) pairs patients live in
    neighbourhoods: tuple[tuple[str, str], ...]


RIVERSIDE = PracticeSpec(
    name="Riverside Family Medicine",
    slug="riverside",
    address_line1="1200 Riverside Dr",
    city="Columbus",
    state="OH",
    postal_code="432212417",
    area_code="614",
    group_taxonomy="261QP2300X",  # clinic/center, primary care
    clinicians=(
        ClinicianSpec("Sarah", "Whitman", "MD", "207Q00000X", 30),
        ClinicianSpec("James", "Okafor", "DO", "207Q00000X", 27),
        ClinicianSpec("Elena", "Vasquez", "MD", "207R00000X", 20),  # internal medicine
        ClinicianSpec("Emily", "Chen", "NP", "363LF0000X", 13),
        ClinicianSpec("Michael", "Brandt", "PA-C", "363A00000X", 10),
    ),
    payers=RIVERSIDE_PAYERS,
    claim_share=Decimal("0.90"),
    max_patients=2000,
    pediatric=False,
    members={
        "biller": Role.BILLER,
        "collections": Role.COLLECTIONS,
        "manager": Role.MANAGER,
        "admin": Role.ADMIN,
    },
    neighbourhoods=(
        ("Columbus", "43215"),
        ("Columbus", "43201"),
        ("Columbus", "43206"),
        ("Columbus", "43214"),
        ("Upper Arlington", "43221"),
        ("Dublin", "43017"),
        ("Hilliard", "43026"),
        ("Grove City", "43123"),
        ("Westerville", "43081"),
        ("Worthington", "43085"),
        ("Reynoldsburg", "43068"),
    ),
)

LAKEVIEW = PracticeSpec(
    name="Lakeview Pediatrics",
    slug="lakeview",
    address_line1="450 Lake Ave",
    city="Lakewood",
    state="OH",
    postal_code="441071536",
    area_code="216",
    group_taxonomy="261QP2300X",
    clinicians=(
        ClinicianSpec("Priya", "Raman", "MD", "208000000X", 45),  # pediatrics
        ClinicianSpec("Thomas", "Reed", "MD", "208000000X", 35),
        ClinicianSpec("Hannah", "Lee", "NP", "363LP0200X", 20),  # pediatric nurse practitioner
    ),
    payers=LAKEVIEW_PAYERS,
    claim_share=Decimal("0.10"),
    max_patients=600,
    pediatric=True,
    members={"biller": Role.BILLER},
    neighbourhoods=(
        ("Lakewood", "44107"),
        ("Cleveland", "44113"),
        ("Cleveland", "44102"),
        ("Rocky River", "44116"),
        ("Westlake", "44145"),
        ("Bay Village", "44140"),
        ("Parma", "44129"),
        ("Euclid", "44123"),
    ),
)

PRACTICES: tuple[PracticeSpec, ...] = (RIVERSIDE, LAKEVIEW)
