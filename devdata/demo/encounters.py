"""Encounters: who was seen, when, for what, and what was billed. Pure planning, no database.

``encounters_plan`` spreads visits over the practice's working days (busier in winter, on Mondays, and
slowly growing), picks patients by how often people like them come in, then walks the visits in date order
to decide each one's content: a new or established patient visit, a yearly preventive visit, chronic-care
follow-up or an acute problem, with the tests, vaccines and minor procedures those bring.
"""

import bisect
import dataclasses
import datetime
import itertools
import random

from devdata.demo.people import Clinician, CoverageRecord, PatientRecord
from devdata.demo.reference import (
    ACUTE_ADULT,
    ACUTE_CHILD,
    ADULT_EXAM_FINDINGS,
    ADULT_EXAM_NORMAL,
    CHILD_EXAM_FINDINGS,
    CHILD_EXAM_NORMAL,
    CHRONIC_WORKUP,
    DEPRESSION_SCREENING,
    ESTABLISHED_VISITS,
    ESTABLISHED_WEIGHTS,
    HEARING_EXAM,
    IMMUNIZATION,
    LIPID_SCREENING,
    MINOR_PROCEDURES,
    NEW_PATIENT_VISITS,
    NEW_PATIENT_WEIGHTS,
    PREVENTIVE_BANDS,
    VISION_EXAM,
)
from rcm.models import PayerKind

FLU_SEASON_MONTHS = frozenset({9, 10, 11, 12, 1, 2})


@dataclasses.dataclass
class PlannedLine:
    procedure_code: str
    pointers: list[int]
    units: int = 1
    modifiers: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Encounter:
    """One visit to bill: the claim's content before it exists."""

    index: int  # position in date order; seeds the claim's own random stream
    record: PatientRecord
    service_date: datetime.date
    clinician: Clinician | None = None
    diagnoses: list[str] = dataclasses.field(default_factory=list)
    lines: list[PlannedLine] = dataclasses.field(default_factory=list)
    primary: CoverageRecord | None = None
    secondary: CoverageRecord | None = None
    preventive: bool = False

    def add_diagnosis(self, code: str) -> int:
        """The 1-based position of ``code`` in the claim's diagnoses, adding it if new."""
        if code not in self.diagnoses:
            self.diagnoses.append(code)
        return self.diagnoses.index(code) + 1

    def add_line(self, procedure_code: str, *diagnoses: str, units: int = 1) -> None:
        pointers = [self.add_diagnosis(code) for code in diagnoses][:4]
        for line in self.lines:
            if line.procedure_code == procedure_code:
                # Same test for two reasons: one line pointing at both diagnoses.
                line.pointers = list(dict.fromkeys(line.pointers + pointers))[:4]
                return
        self.lines.append(PlannedLine(procedure_code=procedure_code, pointers=pointers, units=units))


def _observed_holidays(year: int) -> set[datetime.date]:
    """The days the office is closed: New Year, Memorial Day, July 4th, Labor Day, Thanksgiving, Christmas."""

    def nth_weekday(month: int, weekday: int, n: int) -> datetime.date:
        first = datetime.date(year, month, 1)
        return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    last_may = datetime.date(year, 5, 31)
    return {
        datetime.date(year, 1, 1),
        datetime.date(year, 7, 4),
        datetime.date(year, 12, 25),
        last_may - datetime.timedelta(days=last_may.weekday()),  # last Monday of May
        nth_weekday(9, 0, 1),  # first Monday of September
        nth_weekday(11, 3, 4),  # fourth Thursday of November
    }


class Calendar:
    """The practice's clinic days in the window with a relative visit volume for each."""

    def __init__(self, *, start: datetime.date, end: datetime.date, pediatric: bool):
        holidays = set().union(*(_observed_holidays(year) for year in range(start.year, end.year + 1)))
        span = max((end - start).days, 1)
        self.days: list[datetime.date] = []
        weights: list[float] = []
        for offset in range(span + 1):
            day = start + datetime.timedelta(days=offset)
            if day.weekday() == 6 or day in holidays or (day.weekday() == 5 and not pediatric):
                continue
            weight = 0.35 if day.weekday() == 5 else 1.15 if day.weekday() == 0 else 1.0
            if day.month in (11, 12, 1, 2):
                weight *= 1.4 if pediatric else 1.25  # respiratory season
            if pediatric and day.month in (8, 9):
                weight *= 1.2  # school and sports physicals
            weight *= 1 + 0.12 * offset / span  # the practice is growing
            self.days.append(day)
            weights.append(weight)
        self.cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random, *, not_before: datetime.date) -> datetime.date | None:
        """A clinic day on or after ``not_before``, by volume; None when there is none left."""
        first = bisect.bisect_left(self.days, not_before)
        if first >= len(self.days):
            return None
        low = self.cumulative[first - 1] if first else 0.0
        point = low + rng.random() * (self.cumulative[-1] - low)
        return self.days[min(bisect.bisect_right(self.cumulative, point), len(self.days) - 1)]


def encounters_plan(
    *,
    records: list[PatientRecord],
    clinicians: list[Clinician],
    count: int,
    rng: random.Random,
    start: datetime.date,
    end: datetime.date,
    pediatric: bool,
) -> list[Encounter]:
    """``count`` encounters with service dates in [start, end], each on or after its patient's registration,
    in date order, with diagnoses (billable ICD-10-CM) and lines (codes priced in every contract)."""
    calendar = Calendar(start=start, end=end, pediatric=pediatric)
    candidates = [r for r in records if r.registered <= end]
    cumulative = list(itertools.accumulate(r.visit_weight for r in candidates))
    dated = []
    booked: set[tuple[int, datetime.date]] = set()
    while len(dated) < count and candidates:
        record = rng.choices(candidates, cum_weights=cumulative)[0]
        day = calendar.pick(rng, not_before=max(start, record.registered))
        # One visit per patient per day: a second claim for the same services would be a duplicate
        # (the scrubber's DUPLICATE_CLAIM edit), which real schedules do not produce.
        if day is not None and (id(record), day) not in booked:
            booked.add((id(record), day))
            dated.append((day, len(dated), record))
    dated.sort(key=lambda item: (item[0], item[1]))
    encounters = []
    for index, (day, _draw, record) in enumerate(dated):
        encounter = Encounter(index=index, record=record, service_date=day)
        _fill(encounter, rng=rng, window_start=start, clinicians=clinicians)
        encounters.append(encounter)
    return encounters


def _fill(
    encounter: Encounter, *, rng: random.Random, window_start: datetime.date, clinicians: list[Clinician]
) -> None:
    record, day = encounter.record, encounter.service_date
    age = record.age_on(day)
    encounter.primary = record.coverage_on(day, priority=1)
    if encounter.primary is not None:
        encounter.secondary = record.coverage_on(day, priority=2)
    # Usually the patient's own clinician; otherwise whoever had an opening.
    encounter.clinician = record.clinician if rng.random() < 0.85 else rng.choice(clinicians)
    new_patient = not record.seen and record.registered >= window_start
    record.seen = True
    medicare = encounter.primary is not None and encounter.primary.book.profile.kind == PayerKind.MEDICARE
    if age < 2:
        preventive = rng.random() < 0.55  # infants: a well visit every few months
    else:
        preventive = day.year not in record.preventive_years and rng.random() < 0.33
    if preventive:
        record.preventive_years.add(day.year)
        encounter.preventive = True
        _preventive(encounter, rng=rng, age=age, new_patient=new_patient, medicare=medicare)
    else:
        _problem(encounter, rng=rng, age=age, new_patient=new_patient)
    if day.month in FLU_SEASON_MONTHS and age >= 1 and rng.random() < (0.45 if preventive else 0.12):
        _flu_shot(encounter, age=age, medicare=medicare)
    if any(line.procedure_code in MINOR_PROCEDURES for line in encounter.lines):
        # A separately identifiable visit on the day of a minor procedure needs modifier 25.
        encounter.lines[0].modifiers = ["25"]


def _preventive(
    encounter: Encounter, *, rng: random.Random, age: int, new_patient: bool, medicare: bool
) -> None:
    record = encounter.record
    findings = bool(record.conditions) and rng.random() < 0.35
    if age >= 18:
        exam_dx = ADULT_EXAM_FINDINGS if findings else ADULT_EXAM_NORMAL
    else:
        exam_dx = CHILD_EXAM_FINDINGS if findings else CHILD_EXAM_NORMAL
    if medicare:
        # Medicare covers the annual wellness visit, not a routine physical: initial once, then subsequent.
        code = "G0438" if record.wellness_visits == 0 and new_patient else "G0439"
        record.wellness_visits += 1
    else:
        band = next(b for b in PREVENTIVE_BANDS if age < b[0])
        code = band[1] if new_patient else band[2]
    encounter.add_line(code, exam_dx)
    if findings:
        encounter.add_diagnosis(rng.choice(record.conditions))
    if age >= 18:
        if rng.random() < 0.4:
            encounter.add_line("36415", exam_dx)
            encounter.add_line("80053", exam_dx)
            encounter.add_line("80061", LIPID_SCREENING)
            encounter.add_line("85025", exam_dx)
        if rng.random() < 0.2:
            encounter.add_line("96127", DEPRESSION_SCREENING)
        return
    vaccines = []
    if age < 2:
        vaccines = rng.sample(["90700", "90744", "90707", "90716"], k=2)
    elif 4 <= age <= 6 and rng.random() < 0.5:
        vaccines = ["90700", "90707", "90716"]
    elif 11 <= age <= 12 and rng.random() < 0.6:
        vaccines = ["90715", "90734", "90651"]
    for vaccine in vaccines:
        encounter.add_line(vaccine, IMMUNIZATION)
    if vaccines:
        encounter.add_line("90460", IMMUNIZATION, units=len(vaccines))
    if age >= 12 and rng.random() < 0.6:
        encounter.add_line("96127", DEPRESSION_SCREENING)
    if 3 <= age and rng.random() < 0.3:
        encounter.add_line("99173", VISION_EXAM)
    if 4 <= age and rng.random() < 0.2:
        encounter.add_line("92551", HEARING_EXAM)


def _problem(encounter: Encounter, *, rng: random.Random, age: int, new_patient: bool) -> None:
    record = encounter.record
    conditions = list(record.conditions)
    if new_patient:
        code = rng.choices(NEW_PATIENT_VISITS, weights=NEW_PATIENT_WEIGHTS)[0]
    elif len(conditions) >= 2:
        code = rng.choices(ESTABLISHED_VISITS, weights=(8, 35, 45, 12))[0]
    else:
        code = rng.choices(ESTABLISHED_VISITS, weights=ESTABLISHED_WEIGHTS)[0]
    if conditions and rng.random() < 0.55:
        # Chronic-care follow-up: one to three of the patient's conditions, and the workup they call for.
        reasons = rng.sample(conditions, k=min(len(conditions), rng.randint(1, 3)))
        encounter.add_line(code, *reasons)
        for reason in reasons:
            chance, procedures = CHRONIC_WORKUP.get(reason, (0.0, ()))
            if rng.random() < chance:
                for procedure in procedures:
                    encounter.add_line(procedure, reason)
        return
    acute = ACUTE_CHILD if age < 18 else ACUTE_ADULT
    reason, _weight, procedures = rng.choices(acute, weights=[weight for _c, weight, _p in acute])[0]
    diagnoses = [reason]
    if conditions and rng.random() < 0.3:
        diagnoses.append(rng.choice(conditions))
    encounter.add_line(code, *diagnoses)
    for procedure in procedures:
        encounter.add_line(procedure, reason)


def _flu_shot(encounter: Encounter, *, age: int, medicare: bool) -> None:
    encounter.add_line("90686", IMMUNIZATION)
    # Medicare pays flu shot administration under its own code; under 19 the counselling code applies.
    if medicare:
        encounter.add_line("G0008", IMMUNIZATION)
    elif age < 19:
        existing = next((line for line in encounter.lines if line.procedure_code == "90460"), None)
        if existing is not None:
            existing.units += 1
        else:
            encounter.add_line("90460", IMMUNIZATION)
    else:
        encounter.add_line("90471", IMMUNIZATION)
