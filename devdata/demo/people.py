"""People in the demo: the practice itself, its clinicians, the demo logins, patients, coverage and consents.

Patients, coverages and consents are validated field by field and inserted in bulk: the history that
matters (claims and money) goes through the services; registration rows have no history to tell, and
one insert per table keeps ``seed_demo`` fast.
"""

import dataclasses
import datetime
import random
import string
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from devdata.demo.payers import PayerBook, PlanDesign
from devdata.demo.practices import ClinicianSpec, PracticeSpec
from devdata.demo.reference import (
    CHRONIC_CONDITIONS,
    CONSENT_METHODS,
    EMAIL_DOMAINS,
    FEMALE_FIRST,
    LANGUAGES,
    LAST_NAMES,
    MALE_FIRST,
    MIDDLE_INITIALS,
    STREET_NAMES,
    TIME_ZONES,
    UNIT_PREFIXES,
)
from rcm.demo import DEMO_PASSWORD, DEMO_USERS
from rcm.models import (
    Channel,
    ConsentEvent,
    Coverage,
    Membership,
    Patient,
    PayerKind,
    Practice,
    Provider,
    ProviderRole,
    SubscriberRelationship,
    User,
)
from rcm.sequences import sequence_next


def npi_check_digit(*, first_nine: str) -> str:
    """The NPI check digit for nine digits: Luhn over "80840" + the digits (what ``npi_is_valid`` checks)."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError(f"An NPI starts with nine digits; got {first_nine!r}.")
    total = 0
    # Walking right to left over the payload, the digit next to the (future) check digit is doubled first.
    for index, char in enumerate(reversed("80840" + first_nine)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def npi_generate(*, rng: random.Random) -> str:
    """A random NPI that passes the check-digit test (real NPIs start with 1 or 2)."""
    first_nine = str(rng.choice("12")) + "".join(rng.choice(string.digits) for _ in range(8))
    return first_nine + npi_check_digit(first_nine=first_nine)


def practice_create(*, spec: PracticeSpec, rng: random.Random, created_at: datetime.datetime) -> Practice:
    """The practice row (the tenant), with a valid group NPI and an EIN."""
    practice = Practice(
        name=spec.name,
        slug=spec.slug,
        npi=npi_generate(rng=rng),
        tax_id=f"{rng.randint(10, 99)}{rng.randint(1000000, 9999999)}",  # an EIN: 2-digit prefix + 7 digits
        address_line1=spec.address_line1,
        city=spec.city,
        state=spec.state,
        postal_code=spec.postal_code,
        phone=f"{spec.area_code}-555-0100",
        time_zone="America/New_York",
        created_at=created_at,
    )
    practice.full_clean(validate_unique=False, validate_constraints=False)
    practice.save()
    return practice


@dataclasses.dataclass
class Clinician:
    provider: Provider
    spec: ClinicianSpec


def providers_create(
    *, practice: Practice, spec: PracticeSpec, rng: random.Random
) -> tuple[Provider, list[Clinician]]:
    """The group (billing provider, an organization) and one rendering provider per clinician."""
    group = Provider(
        practice=practice,
        last_name=spec.name,
        is_organization=True,
        npi=practice.npi,
        taxonomy_code=spec.group_taxonomy,
        role=ProviderRole.BILLING,
    )
    clinicians = [
        Clinician(
            Provider(
                practice=practice,
                first_name=c.first_name,
                last_name=c.last_name,
                credentials=c.credentials,
                npi=npi_generate(rng=rng),
                taxonomy_code=c.taxonomy_code,
                role=ProviderRole.RENDERING,
            ),
            c,
        )
        for c in spec.clinicians
    ]
    for provider in [group, *(c.provider for c in clinicians)]:
        provider.full_clean(exclude=["practice"], validate_unique=False, validate_constraints=False)
        provider.save()
    return group, clinicians


def demo_users_create() -> dict[str, User]:
    """One login per role in ``rcm.demo.DEMO_USERS``, all with ``DEMO_PASSWORD``; ``admin`` is also staff
    and superuser (Django admin)."""
    # One hash for all four: hashing is deliberately slow, and these are published demo passwords anyway.
    password = make_password(DEMO_PASSWORD)
    users = {}
    for username, first_name, last_name, role in DEMO_USERS:
        is_admin = role == "admin"
        users[username] = User.objects.create(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@demo.example.org",
            password=password,
            is_staff=is_admin,
            is_superuser=is_admin,
        )
    return users


def memberships_create(
    *, practice: Practice, spec: PracticeSpec, users: dict[str, User], at: datetime.datetime
) -> None:
    for username, role in spec.members.items():
        Membership.objects.create(user=users[username], practice=practice, role=role, created_at=at)


# --- patients ------------------------------------------------------------------------------------


@dataclasses.dataclass
class CoverageRecord:
    """A coverage and what the adjudication needs to know about it (the plan's cost sharing, deductible
    met)."""

    coverage: Coverage
    book: PayerBook
    plan: PlanDesign
    deductible_met: dict[int, Decimal] = dataclasses.field(default_factory=dict)

    def active_on(self, day: datetime.date) -> bool:
        coverage = self.coverage
        return coverage.effective_date <= day and (coverage.end_date is None or day <= coverage.end_date)


@dataclasses.dataclass
class PatientRecord:
    """A patient with the facts the encounter planner uses (never read back from the database)."""

    patient: Patient
    registered: datetime.date  # first day the patient can be seen
    conditions: tuple[str, ...]
    clinician: Clinician
    visit_weight: float
    coverages: list[CoverageRecord] = dataclasses.field(default_factory=list)
    seen: bool = False
    preventive_years: set[int] = dataclasses.field(default_factory=set)
    wellness_visits: int = 0

    def age_on(self, day: datetime.date) -> int:
        return self.patient.age_on(day)

    def coverage_on(self, day: datetime.date, *, priority: int) -> CoverageRecord | None:
        for record in self.coverages:
            if record.coverage.priority == priority and record.active_on(day):
                return record
        return None


@dataclasses.dataclass
class Household:
    last_name: str
    address_line1: str
    address_line2: str
    city: str
    postal_code: str
    phone: str
    language: str
    time_zone: str


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _birth_date(rng: random.Random, *, age: int, as_of: datetime.date) -> datetime.date:
    """A date of birth making the person ``age`` on ``as_of``."""
    latest = (
        as_of.replace(year=as_of.year - age)
        if not (as_of.month == 2 and as_of.day == 29)
        else (as_of.replace(year=as_of.year - age, day=28))
    )
    # Nobody in the data is born on or after the as-of day (the data ends the day before).
    return min(latest - datetime.timedelta(days=rng.randint(0, 364)), as_of - datetime.timedelta(days=1))


def _member_id(rng: random.Random, *, kind: str, payer_id: str) -> str:
    if kind == PayerKind.MEDICARE:
        # Medicare Beneficiary Identifier layout: C A AN N A AN N A A N N (letters exclude S, L, O, I, B, Z).
        letters = "ACDEFGHJKMNPQRTUVWXY"
        alnum = letters + string.digits
        layout = (
            "123456789",
            letters,
            alnum,
            string.digits,
            letters,
            alnum,
            string.digits,
            letters,
            letters,
            string.digits,
            string.digits,
        )
        return "".join(rng.choice(chars) for chars in layout)
    if kind == PayerKind.MEDICAID:
        return "9" + "".join(rng.choice(string.digits) for _ in range(11))
    return payer_id[:3] + "".join(rng.choice(string.digits) for _ in range(9))


class PatientFactory:
    """Builds households of patients with coverage for one practice, deterministically from ``rng``."""

    def __init__(
        self,
        *,
        practice: Practice,
        spec: PracticeSpec,
        rng: random.Random,
        books: dict[str, PayerBook],
        clinicians: list[Clinician],
        window_start: datetime.date,
        as_of: datetime.date,
        tz: datetime.tzinfo,
    ):
        self.practice, self.spec, self.rng, self.books = practice, spec, rng, books
        self.clinicians, self.window_start, self.as_of, self.tz = clinicians, window_start, as_of, tz
        self.records: list[PatientRecord] = []
        self.guarantors: list[Patient] = []
        self._dependents: list[tuple[Patient, Patient]] = []  # (child, guarantor)
        self._email_serial = 0
        self._groups = {key: [f"G{rng.randint(10000, 99999)}" for _ in range(6)] for key in books}

    # -- building blocks
    def _household(self) -> Household:
        rng = self.rng
        city, postal_code = rng.choice(self.spec.neighbourhoods)
        unit = f"{rng.choice(UNIT_PREFIXES)} {rng.randint(1, 40)}" if rng.random() < 0.15 else ""
        return Household(
            last_name=rng.choice(LAST_NAMES),
            city=city,
            postal_code=postal_code,
            address_line1=f"{rng.randint(100, 9899)} {rng.choice(STREET_NAMES)}",
            address_line2=unit,
            phone=f"{self.spec.area_code}-555-01{rng.randint(0, 99):02d}",
            language=_weighted(rng, LANGUAGES),
            time_zone=_weighted(rng, TIME_ZONES),
        )

    def _person(self, household: Household, *, age: int, registered: datetime.date | None = None) -> Patient:
        rng = self.rng
        sex = rng.choice("FM")
        first = rng.choice(FEMALE_FIRST if sex == "F" else MALE_FIRST)
        email = ""
        if age >= 13 and rng.random() < 0.8:
            self._email_serial += 1
            local = f"{first}.{household.last_name}".lower().replace("'", "")
            email = f"{local}{self._email_serial}@{rng.choice(EMAIL_DOMAINS)}"
        dob = _birth_date(rng, age=age, as_of=self.as_of)
        if registered is None:
            registered = self._registration(dob)
        return Patient(
            practice=self.practice,
            first_name=first,
            last_name=household.last_name,
            middle_name=rng.choice(MIDDLE_INITIALS) if rng.random() < 0.6 else "",
            date_of_birth=dob,
            sex=sex,
            address_line1=household.address_line1,
            address_line2=household.address_line2,
            city=household.city,
            state=self.spec.state,
            postal_code=household.postal_code,
            email=email,
            phone=household.phone if age >= 13 else "",  # a child is reached through the guarantor
            preferred_language=household.language,
            time_zone=household.time_zone,
            created_at=datetime.datetime.combine(registered, datetime.time(9, rng.randint(0, 59)), self.tz),
        )

    def _registration(self, dob: datetime.date) -> datetime.date:
        """Most patients were registered years ago; about one in six is new during the window."""
        rng = self.rng
        last_day = self.as_of - datetime.timedelta(days=1)
        if rng.random() < 0.17:
            span = (last_day - self.window_start).days
            day = self.window_start + datetime.timedelta(days=rng.randint(0, span))
        else:
            day = self.window_start - datetime.timedelta(days=rng.randint(30, 3650))
        # Nobody registers before birth; a newborn comes in within days (but not after the data ends).
        return min(max(day, dob + datetime.timedelta(days=rng.randint(2, 10))), last_day)

    def _record(self, patient: Patient, *, conditions_for_age: int) -> PatientRecord:
        rng = self.rng
        conditions = []
        for code, (min_age, chance_40_plus, chance_other) in CHRONIC_CONDITIONS.items():
            if conditions_for_age < min_age or (code == "F90.9" and conditions_for_age >= 30):
                continue
            if rng.random() < (chance_40_plus if conditions_for_age >= 40 else chance_other):
                conditions.append(code)
        age = conditions_for_age
        if self.spec.pediatric:
            weight = 5.0 if age < 2 else 2.6 if age < 6 else 1.8
        else:
            weight = 1.6 if age < 18 else 1.2 if age < 40 else 2.0 if age < 65 else 3.0
        clinician = rng.choices(self.clinicians, weights=[c.spec.panel_weight for c in self.clinicians])[0]
        record = PatientRecord(
            patient=patient,
            registered=patient.created_at.date(),
            conditions=tuple(conditions),
            clinician=clinician,
            visit_weight=weight + 0.5 * len(conditions),
        )
        self.records.append(record)
        return record

    def _cover(
        self,
        record: PatientRecord,
        *,
        book_key: str,
        priority: int = 1,
        effective: datetime.date,
        end: datetime.date | None = None,
        subscriber: Patient | None = None,
        member_id: str = "",
        plan: PlanDesign | None = None,
    ) -> CoverageRecord:
        rng, book = self.rng, self.books[book_key]
        profile = book.profile
        patient = record.patient
        coverage = Coverage(
            practice=self.practice,
            patient=patient,
            payer=book.payer,
            priority=priority,
            member_id=member_id or _member_id(rng, kind=profile.kind, payer_id=profile.payer_id),
            group_number=rng.choice(self._groups[book_key]) if profile.kind == PayerKind.COMMERCIAL else "",
            effective_date=effective,
            end_date=end,
        )
        if subscriber is not None:
            coverage.relationship = SubscriberRelationship.CHILD
            coverage.subscriber_first_name = subscriber.first_name
            coverage.subscriber_last_name = subscriber.last_name
            coverage.subscriber_date_of_birth = subscriber.date_of_birth
            coverage.subscriber_sex = subscriber.sex
        plan = plan or _weighted(rng, profile.plans)
        cover = CoverageRecord(coverage=coverage, book=book, plan=plan)
        record.coverages.append(cover)
        return cover

    def _effective(self, record: PatientRecord) -> datetime.date:
        """Coverage in force from before the patient's first visit (or from birth)."""
        start = min(record.registered, self.window_start) - datetime.timedelta(days=self.rng.randint(0, 700))
        return max(start, record.patient.date_of_birth)

    def _commercial_key(self) -> str:
        keys = [key for key, book in self.books.items() if book.profile.kind == PayerKind.COMMERCIAL]
        return self.rng.choices(keys, weights=[4, 3, 3][: len(keys)])[0]

    # -- households
    def adult(self) -> PatientRecord:
        """An adult who is their own guarantor, with Medicare, Medicaid, a commercial plan or none."""
        rng = self.rng
        age = _weighted(
            rng, ((rng.randint(18, 39), 35), (rng.randint(40, 64), 38), (rng.randint(65, 94), 27))
        )
        record = self._record(self._person(self._household(), age=age), conditions_for_age=age)
        self._adult_coverage(record)
        return record

    def _adult_coverage(self, record: PatientRecord) -> None:
        rng = self.rng
        patient, effective = record.patient, self._effective(record)
        sixty_five = patient.date_of_birth.replace(year=patient.date_of_birth.year + 65, day=1)
        if sixty_five <= self.as_of and "medicare" in self.books and rng.random() < 0.93:
            if sixty_five > effective:
                # Aged into Medicare: the commercial plan ends the month before.
                self._cover(
                    record,
                    book_key=self._commercial_key(),
                    effective=effective,
                    end=sixty_five - datetime.timedelta(days=1),
                )
            self._cover(record, book_key="medicare", effective=max(sixty_five, effective))
            # Most beneficiaries have something on top of Medicare: a supplement, or Medicaid (dual eligible).
            roll = rng.random()
            if roll < 0.40:
                self._cover(
                    record,
                    book_key="summit",
                    priority=2,
                    effective=max(sixty_five, effective),
                    plan=PlanDesign("Summit Medicare Supplement Plan G"),
                )
            elif roll < 0.52:
                self._cover(record, book_key="medicaid", priority=2, effective=max(sixty_five, effective))
            return
        roll = rng.random()
        if roll < 0.69:
            key = self._commercial_key()
            if rng.random() < 0.06:
                # Changed jobs during the window: the old plan ends, the new one starts the next day.
                switch = self.window_start + datetime.timedelta(days=rng.randint(60, 360))
                if switch > effective:
                    ended = switch - datetime.timedelta(days=1)
                    self._cover(record, book_key=key, effective=effective, end=ended)
                    key, effective = self._commercial_key(), switch
            self._cover(record, book_key=key, effective=effective)
        elif roll < 0.975:
            self._cover(record, book_key="medicaid", effective=effective)
        # else: uninsured, self-pay (about 2.5% of working-age adults: their claims stay drafts, patient A/R)

    def family(self) -> list[PatientRecord]:
        """A parent (the guarantor) and one to three children on the parent's plan or on Medicaid.

        In a pediatric practice the parent is a guarantor account only (no visits)."""
        rng = self.rng
        household = self._household()
        parent_age = rng.randint(24, 52)
        parent = self._person(household, age=parent_age)
        children_ages = sorted({rng.choice(self._child_ages()) for _ in range(rng.choice((1, 1, 2, 2, 3)))})
        children_ages = [age for age in children_ages if age <= parent_age - 18] or [0]
        records = []
        if self.spec.pediatric:
            self.guarantors.append(parent)
            parent_record = None
        else:
            parent_record = self._record(parent, conditions_for_age=parent_age)
            self._adult_coverage(parent_record)
            records.append(parent_record)
        parent_plan = parent_record.coverages[-1] if parent_record and parent_record.coverages else None
        if self.spec.pediatric:
            roll = rng.random()
            family_key = "medicaid" if roll < 0.49 else self._commercial_key() if roll < 0.985 else ""
        elif parent_plan is not None and parent_plan.book.profile.kind == PayerKind.COMMERCIAL:
            family_key = parent_plan.book.profile.key
        else:
            # CHIP covers most children of parents without a commercial plan.
            family_key = "medicaid" if rng.random() < 0.95 else ""
        on_parent_plan = bool(family_key) and self.books[family_key].profile.kind == PayerKind.COMMERCIAL
        family_plan = parent_plan.plan if on_parent_plan and parent_plan else None
        subscriber_id = ""
        if on_parent_plan:
            subscriber_id = (
                parent_plan.coverage.member_id
                if parent_plan
                else _member_id(
                    rng, kind=PayerKind.COMMERCIAL, payer_id=self.books[family_key].profile.payer_id
                )
            )
            family_plan = family_plan or _weighted(rng, self.books[family_key].profile.plans)
        for index, age in enumerate(children_ages):
            child = self._person(household, age=age)
            record = self._record(child, conditions_for_age=age)
            self._dependents.append((child, parent))
            if family_key:
                # Dependents on a commercial plan carry the subscriber's ID with a person suffix (02, 03...).
                self._cover(
                    record,
                    book_key=family_key,
                    effective=self._effective(record),
                    subscriber=parent if on_parent_plan else None,
                    member_id=f"{subscriber_id}{index + 2:02d}" if on_parent_plan else "",
                    plan=family_plan,
                )
            records.append(record)
        return records

    def _child_ages(self) -> list[int]:
        # Pediatric panels lean young: infants and toddlers come most often.
        return [0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]

    def build(self, *, count: int) -> None:
        """Households until ``count`` patients who can have visits exist."""
        while len(self.records) < count:
            if self.spec.pediatric or self.rng.random() < 0.2:
                self.family()
            else:
                self.adult()

    # -- saving
    def save(self, *, account_prefix: str = "A") -> dict[str, int]:
        """Validate every row's fields, then insert patients (guarantors first), coverages and consents.

        Guarantees: account numbers come from the practice's ``patient_account`` sequence (so
        ``patient_create`` continues after them); every row passes its field validators and ``clean``."""
        # Guarantors must exist before the dependents that point at them: two inserts.
        second_wave = [child for child, _parent in self._dependents]
        dependents = {id(child) for child in second_wave}
        first_wave = self.guarantors + [r.patient for r in self.records if id(r.patient) not in dependents]
        everyone = first_wave + second_wave
        numbers = sequence_next(practice=self.practice, name="patient_account", count=len(everyone))
        for patient, number in zip(everyone, numbers, strict=True):
            patient.account_number = f"{account_prefix}{number:07d}"
        checks = {
            "exclude": ["practice", "guarantor"],
            "validate_unique": False,
            "validate_constraints": False,
        }
        for patient in first_wave:
            patient.full_clean(**checks)
        Patient.objects.bulk_create(first_wave, batch_size=500)
        for child, parent in self._dependents:
            child.guarantor = parent
            child.guarantor_relationship = "mother" if parent.sex == "F" else "father"
            child.full_clean(**checks)
        Patient.objects.bulk_create(second_wave, batch_size=500)
        coverages = []
        for record in self.records:
            for cover in record.coverages:
                cover.coverage.patient = record.patient  # picks up the id assigned by the insert
                cover.coverage.full_clean(
                    exclude=["practice", "patient", "payer"],
                    validate_unique=False,
                    validate_constraints=False,
                )
                coverages.append(cover.coverage)
        Coverage.objects.bulk_create(coverages, batch_size=500)
        consents = self._consents(everyone)
        ConsentEvent.objects.bulk_create(consents, batch_size=1000)
        return {"patients": len(everyone), "coverages": len(coverages), "consent_events": len(consents)}

    def _consents(self, patients: list[Patient]) -> list[ConsentEvent]:
        """Consent per channel as given at registration; a few text-message consents later withdrawn (STOP).
        The same rows ``rcm.services.consent_record`` writes, inserted in one go."""
        rng, events = self.rng, []
        last_moment = datetime.datetime.combine(
            self.as_of - datetime.timedelta(days=1), datetime.time(17), self.tz
        )
        for patient in patients:
            at = patient.created_at
            method = rng.choice(CONSENT_METHODS)
            choices = [(Channel.MAIL, rng.random() < 0.97), (Channel.PHONE, rng.random() < 0.9)]
            if patient.phone:
                choices.append((Channel.SMS, rng.random() < 0.55))
            if patient.email:
                choices.append((Channel.EMAIL, rng.random() < 0.6))
            for channel, granted in choices:
                events.append(
                    ConsentEvent(
                        practice_id=patient.practice_id,
                        patient=patient,
                        channel=channel,
                        granted=granted,
                        method=method,
                        at=at,
                    )
                )
                if channel == Channel.SMS and granted and rng.random() < 0.05:
                    withdrawn = at + datetime.timedelta(days=rng.randint(20, 400), hours=rng.randint(0, 8))
                    if withdrawn < last_moment:
                        events.append(
                            ConsentEvent(
                                practice_id=patient.practice_id,
                                patient=patient,
                                channel=channel,
                                granted=False,
                                method="STOP reply",
                                at=withdrawn,
                            )
                        )
        return events
