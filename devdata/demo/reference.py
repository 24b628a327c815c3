"""Reference data the demo is built from: procedure prices, diagnoses, names and places.

Everything here is written by us for the demo. Prices are rounded approximations of public national
Medicare amounts (the base every contract is priced from); names, streets and phone numbers are
invented (555-01xx numbers and example.* e-mail domains are reserved for fiction). CPT descriptions
are AMA-licensed, so the charge master carries the practice's own short wording instead.
"""

from decimal import Decimal

D = Decimal

# code -> (Medicare non-facility amount, the practice's standard charge, the practice's own wording).
# Charges sit well above every contract's allowed amount, as in real charge masters.
PROCEDURES: dict[str, tuple[Decimal, Decimal, str]] = {
    # office visits, new patient
    "99202": (D("73.00"), D("150.00"), "Office visit, new patient, straightforward"),
    "99203": (D("113.00"), D("225.00"), "Office visit, new patient, low complexity"),
    "99204": (D("169.00"), D("330.00"), "Office visit, new patient, moderate complexity"),
    "99205": (D("223.00"), D("435.00"), "Office visit, new patient, high complexity"),
    # office visits, established patient
    "99211": (D("23.00"), D("60.00"), "Nurse visit"),
    "99212": (D("57.00"), D("120.00"), "Office visit, established, straightforward"),
    "99213": (D("92.00"), D("185.00"), "Office visit, established, low complexity"),
    "99214": (D("130.00"), D("265.00"), "Office visit, established, moderate complexity"),
    "99215": (D("184.00"), D("365.00"), "Office visit, established, high complexity"),
    # preventive visits, new patient, by age band
    "99381": (D("118.00"), D("250.00"), "Well visit, new, infant"),
    "99382": (D("123.00"), D("260.00"), "Well visit, new, age 1-4"),
    "99383": (D("128.00"), D("265.00"), "Well visit, new, age 5-11"),
    "99384": (D("143.00"), D("290.00"), "Well visit, new, age 12-17"),
    "99385": (D("139.00"), D("285.00"), "Physical, new, age 18-39"),
    "99386": (D("162.00"), D("320.00"), "Physical, new, age 40-64"),
    "99387": (D("175.00"), D("345.00"), "Physical, new, age 65+"),
    # preventive visits, established patient, by age band
    "99391": (D("105.00"), D("220.00"), "Well visit, infant"),
    "99392": (D("113.00"), D("235.00"), "Well visit, age 1-4"),
    "99393": (D("112.00"), D("235.00"), "Well visit, age 5-11"),
    "99394": (D("122.00"), D("250.00"), "Well visit, age 12-17"),
    "99395": (D("125.00"), D("255.00"), "Physical, age 18-39"),
    "99396": (D("135.00"), D("275.00"), "Physical, age 40-64"),
    "99397": (D("145.00"), D("295.00"), "Physical, age 65+"),
    # Medicare annual wellness visits (Medicare does not cover the 9938x/9939x physicals)
    "G0438": (D("170.00"), D("310.00"), "Annual wellness visit, initial"),
    "G0439": (D("130.00"), D("245.00"), "Annual wellness visit, subsequent"),
    "G0008": (D("33.00"), D("65.00"), "Flu vaccine administration (Medicare)"),
    # lab and tests done in the office
    "36415": (D("3.00"), D("25.00"), "Blood draw"),
    "81002": (D("3.50"), D("20.00"), "Urine dipstick"),
    "83036": (D("13.00"), D("45.00"), "Hemoglobin A1c"),
    "80053": (D("10.50"), D("60.00"), "Comprehensive metabolic panel"),
    "80061": (D("13.40"), D("55.00"), "Lipid panel"),
    "85025": (D("7.80"), D("40.00"), "Complete blood count"),
    "87880": (D("16.50"), D("45.00"), "Rapid strep test"),
    "87804": (D("16.50"), D("45.00"), "Rapid flu test"),
    "93000": (D("16.50"), D("75.00"), "Electrocardiogram with report"),
    "94640": (D("15.50"), D("55.00"), "Nebulizer treatment"),
    "96127": (D("4.50"), D("25.00"), "Behavioral screening questionnaire"),
    "99173": (D("3.00"), D("20.00"), "Vision screening"),
    "92551": (D("12.00"), D("35.00"), "Hearing screening"),
    "99406": (D("16.00"), D("45.00"), "Tobacco cessation counseling"),
    # immunizations: administration and products
    "90471": (D("17.50"), D("40.00"), "Vaccine administration, first"),
    "90460": (D("22.00"), D("45.00"), "Vaccine administration with counseling, under 19"),
    "90686": (D("21.00"), D("55.00"), "Flu vaccine, quadrivalent"),
    "90700": (D("30.00"), D("70.00"), "DTaP vaccine"),
    "90707": (D("80.00"), D("150.00"), "MMR vaccine"),
    "90716": (D("140.00"), D("230.00"), "Varicella vaccine"),
    "90744": (D("25.00"), D("60.00"), "Hepatitis B vaccine, pediatric"),
    "90715": (D("35.00"), D("80.00"), "Tdap vaccine"),
    "90651": (D("270.00"), D("380.00"), "HPV vaccine"),
    "90734": (D("140.00"), D("230.00"), "Meningococcal ACWY vaccine"),
    # minor procedures
    "20610": (D("63.00"), D("210.00"), "Large joint injection"),
    "11102": (D("95.00"), D("260.00"), "Skin biopsy, tangential"),
    "17000": (D("62.00"), D("160.00"), "Destruction of premalignant lesion"),
    "69210": (D("47.00"), D("120.00"), "Cerumen removal, instrumentation"),
}

NEW_PATIENT_VISITS = ("99202", "99203", "99204", "99205")
NEW_PATIENT_WEIGHTS = (10, 45, 35, 10)
ESTABLISHED_VISITS = ("99212", "99213", "99214", "99215")
ESTABLISHED_WEIGHTS = (15, 45, 32, 8)
# Office visits: the only lines a copay applies to.
OFFICE_VISITS = frozenset(NEW_PATIENT_VISITS + ESTABLISHED_VISITS + ("99211",))
# Preventive services carry no patient cost sharing (ACA / Medicare preventive rules).
PREVENTIVE = frozenset(
    {f"9938{n}" for n in range(1, 8)}
    | {f"9939{n}" for n in range(1, 8)}
    | {
        "G0438",
        "G0439",
        "G0008",
        "90471",
        "90460",
        "90686",
        "90700",
        "90707",
        "90716",
        "90744",
        "90715",
        "90651",
        "90734",
        "96127",
        "99173",
        "92551",
    }
)
# Minor procedures billed with an office visit on the same day: the visit carries modifier 25.
MINOR_PROCEDURES = frozenset({"20610", "11102", "17000", "69210"})
# Lines payers like to bundle into the visit (CARC 97).
BUNDLE_PRONE = frozenset({"36415", "69210", "93000", "96127", "99173", "81002"})

# Preventive visit codes by age band: (upper age exclusive, new patient, established patient).
PREVENTIVE_BANDS: tuple[tuple[int, str, str], ...] = (
    (1, "99381", "99391"),
    (5, "99382", "99392"),
    (12, "99383", "99393"),
    (18, "99384", "99394"),
    (40, "99385", "99395"),
    (65, "99386", "99396"),
    (200, "99387", "99397"),
)

# Every code here is a billable ICD-10-CM code (tests check each with ``rcm.validators.icd10_problem``).
# Long-term conditions a patient carries from visit to visit: code -> (minimum age, chance for adults 40+,
# chance for everyone else in the age range).
CHRONIC_CONDITIONS: dict[str, tuple[int, float, float]] = {
    "I10": (25, 0.40, 0.08),  # essential hypertension
    "E78.5": (25, 0.30, 0.06),  # hyperlipidemia
    "E11.9": (30, 0.14, 0.04),  # type 2 diabetes without complications
    "E66.9": (12, 0.22, 0.12),  # obesity
    "J45.909": (3, 0.07, 0.09),  # asthma, uncomplicated
    "F41.1": (14, 0.10, 0.10),  # generalized anxiety
    "K21.9": (18, 0.10, 0.05),  # reflux
    "E03.9": (25, 0.07, 0.02),  # hypothyroidism
    "F17.210": (18, 0.12, 0.10),  # smoker
    "M17.11": (50, 0.08, 0.00),  # knee osteoarthritis, right
    "F90.9": (5, 0.00, 0.06),  # ADHD (children, see the age range in ``people``)
}

# Reasons for a problem-oriented visit, by age group: (code, weight, procedures the reason brings).
ACUTE_ADULT: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("J06.9", 12, ()),  # upper respiratory infection
    ("R05.9", 8, ()),  # cough
    ("J01.90", 6, ()),  # sinusitis
    ("J02.9", 5, ("87880",)),  # pharyngitis, strep test
    ("N39.0", 6, ("81002",)),  # urinary tract infection, dipstick
    ("M54.50", 8, ()),  # low back pain
    ("R51.9", 4, ()),  # headache
    ("R00.2", 3, ("93000",)),  # palpitations, ECG
    ("R42", 2, ("93000",)),  # dizziness, ECG
    ("H61.23", 4, ("69210",)),  # impacted cerumen, removal
    ("L57.0", 3, ("17000",)),  # actinic keratosis, destruction
    ("D48.5", 2, ("11102",)),  # skin lesion of uncertain behavior, biopsy
    ("M25.561", 3, ()),  # knee pain
    ("R53.83", 3, ("85025", "36415")),  # fatigue, CBC
    ("J11.1", 3, ("87804",)),  # influenza, rapid test
    ("L03.90", 2, ()),  # cellulitis
    ("J20.9", 4, ()),  # bronchitis
    ("K52.9", 2, ()),  # gastroenteritis
)
ACUTE_CHILD: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("J06.9", 16, ()),
    ("H66.90", 10, ()),  # otitis media
    ("J02.0", 5, ("87880",)),  # strep throat, strep test
    ("J02.9", 6, ("87880",)),
    ("R50.9", 6, ()),  # fever
    ("J11.1", 4, ("87804",)),
    ("R05.9", 6, ()),
    ("L20.9", 4, ()),  # atopic dermatitis
    ("A08.4", 4, ()),  # viral gastroenteritis
    ("K59.00", 3, ()),  # constipation
    ("H10.9", 4, ()),  # conjunctivitis
    ("J21.9", 3, ()),  # bronchiolitis
    ("B35.4", 2, ()),  # tinea corporis
    ("L22", 2, ()),  # diaper dermatitis
    ("R21", 3, ()),  # rash
)
# Procedures a chronic condition brings at some visits: code -> (chance, procedures).
CHRONIC_WORKUP: dict[str, tuple[float, tuple[str, ...]]] = {
    "E11.9": (0.6, ("83036",)),
    "I10": (0.2, ("80053", "36415")),
    "E78.5": (0.25, ("80061", "36415")),
    "J45.909": (0.15, ("94640",)),
    "F17.210": (0.3, ("99406",)),
    "M17.11": (0.25, ("20610",)),
    "F90.9": (0.3, ("96127",)),
}
# Diagnoses on preventive visits.
ADULT_EXAM_NORMAL, ADULT_EXAM_FINDINGS = "Z00.00", "Z00.01"
CHILD_EXAM_NORMAL, CHILD_EXAM_FINDINGS = "Z00.129", "Z00.121"
IMMUNIZATION = "Z23"
LIPID_SCREENING = "Z13.220"
DEPRESSION_SCREENING = "Z13.31"
VISION_EXAM = "Z01.00"
HEARING_EXAM = "Z01.10"
DIABETES_SCREENING = "Z13.1"

# The diagnosis codes the demo uses, in one list for the test that checks each is billable.
ALL_DIAGNOSES: tuple[str, ...] = tuple(
    sorted(
        set(CHRONIC_CONDITIONS)
        | {code for code, _weight, _procedures in ACUTE_ADULT + ACUTE_CHILD}
        | {
            ADULT_EXAM_NORMAL,
            ADULT_EXAM_FINDINGS,
            CHILD_EXAM_NORMAL,
            CHILD_EXAM_FINDINGS,
            IMMUNIZATION,
            LIPID_SCREENING,
            DEPRESSION_SCREENING,
            VISION_EXAM,
            HEARING_EXAM,
            DIABETES_SCREENING,
        }
    )
)

# Names and places (invented combinations).
FEMALE_FIRST = (
    "Olivia",
    "Emma",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Charlotte",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Emily",
    "Elizabeth",
    "Sofia",
    "Madison",
    "Avery",
    "Ella",
    "Scarlett",
    "Grace",
    "Chloe",
    "Maria",
    "Linda",
    "Patricia",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Nancy",
    "Lisa",
    "Margaret",
    "Sandra",
    "Ashley",
    "Dorothy",
    "Kimberly",
    "Donna",
    "Carol",
    "Michelle",
    "Aaliyah",
    "Fatima",
    "Priya",
    "Mei",
    "Guadalupe",
    "Hodan",
    "Nadia",
    "Keisha",
    "Rosa",
    "Anh",
    "Yuki",
    "Leila",
)
MALE_FIRST = (
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Benjamin",
    "Lucas",
    "Henry",
    "Theodore",
    "Jack",
    "Levi",
    "Alexander",
    "Jackson",
    "Mateo",
    "Daniel",
    "Michael",
    "Mason",
    "Sebastian",
    "Ethan",
    "Robert",
    "John",
    "David",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Christopher",
    "Mark",
    "Donald",
    "Steven",
    "Paul",
    "Andrew",
    "Kenneth",
    "Kevin",
    "Brian",
    "George",
    "Edward",
    "Ahmed",
    "Omar",
    "Raj",
    "Wei",
    "Jose",
    "Abdi",
    "Dmitri",
    "Marcus",
    "Andre",
    "Minh",
    "Kenji",
    "Tariq",
)
MIDDLE_INITIALS = "ABCDEFGHJKLMNPRSTW"
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Shah",
    "Kowalski",
    "Schneider",
    "Mueller",
    "O'Brien",
    "Murphy",
    "Sullivan",
    "Hassan",
    "Ali",
    "Warsame",
    "Chen",
    "Wang",
    "Kim",
    "Park",
    "Tran",
    "Okafor",
    "Mensah",
    "Novak",
    "Yoder",
)
STREET_NAMES = (
    "Main St",
    "High St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Park Ave",
    "Lake Rd",
    "Hillcrest Dr",
    "Sunset Blvd",
    "River Rd",
    "Church St",
    "Walnut St",
    "Chestnut St",
    "Broad St",
    "Franklin Ave",
    "Washington St",
    "Lincoln Ave",
    "Jefferson Dr",
    "Meadow Ln",
    "Willow Way",
    "Birch Ct",
    "Spring St",
    "Mill Rd",
    "Orchard Dr",
    "Prospect Ave",
    "Highland Ave",
    "Ridge Rd",
    "Valley View Dr",
    "Country Club Dr",
)
UNIT_PREFIXES = ("Apt", "Unit", "Apt", "Suite")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# Spoken languages (weights for a Midwestern practice).
LANGUAGES: tuple[tuple[str, int], ...] = (
    ("English", 86),
    ("Spanish", 7),
    ("Somali", 2),
    ("Nepali", 1),
    ("Arabic", 1),
    ("Vietnamese", 1),
    ("Mandarin", 1),
    ("Russian", 1),
)
# Most patients live in the practice's zone; some spend part of the year (or college) elsewhere.
TIME_ZONES: tuple[tuple[str, int], ...] = (
    ("America/New_York", 93),
    ("America/Chicago", 3),
    ("America/Phoenix", 2),
    ("America/Denver", 1),
    ("America/Los_Angeles", 1),
)

# Consent to be contacted: how it was given.
CONSENT_METHODS = ("registration form", "patient portal", "verbal, at check-in")


def draft_wait_days(rng) -> int:
    """Days a new claim waits as a draft for the provider's signature: most a day or two, a few weeks for
    some, months for the odd chart nobody signs."""
    roll = rng.random()
    if roll < 0.95:
        return rng.choices((0, 1, 2), weights=(50, 35, 15))[0]
    if roll < 0.99:
        return rng.randint(5, 25)
    return rng.randint(60, 220)
