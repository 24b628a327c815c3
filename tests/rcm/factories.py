import datetime

import factory

from rcm.models import Membership, Practice, User
from rcm.roles import Role


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")
    npi = "1234567893"
    tax_id = "123456789"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    practice = factory.SubFactory(PracticeFactory)
    role = Role.BILLER


def npi_with_check_digit(first_nine: str) -> str:
    """A valid NPI: the Luhn check digit over "80840" + the first nine digits."""
    from rcm.validators import npi_is_valid

    return next(first_nine + str(d) for d in range(10) if npi_is_valid(first_nine + str(d)))


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "rcm.Provider"

    practice = factory.SubFactory(PracticeFactory)
    first_name = "Dana"
    last_name = factory.Sequence(lambda n: f"Rivera{n}")
    credentials = "MD"
    npi = factory.Sequence(lambda n: npi_with_check_digit(f"{100000000 + n:09d}"))
    taxonomy_code = "207Q00000X"
    role = "both"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "rcm.Patient"

    practice = factory.SubFactory(PracticeFactory)
    account_number = factory.Sequence(lambda n: f"A{n:07d}")
    first_name = "Jordan"
    last_name = factory.Sequence(lambda n: f"Smith{n}")
    date_of_birth = datetime.date(1970, 5, 17)
    sex = "F"
    address_line1 = "12 Main St"
    city = "Springfield"
    state = "IL"
    postal_code = "62701"
    phone = "217-555-0142"
    email = factory.Sequence(lambda n: f"patient{n}@example.org")


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "rcm.Payer"

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Acme Health {n}")
    payer_id = factory.Sequence(lambda n: f"P{n:05d}")
    kind = "commercial"


class CoverageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "rcm.Coverage"

    practice = factory.SubFactory(PracticeFactory)
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    payer = factory.SubFactory(PayerFactory, practice=factory.SelfAttribute("..practice"))
    priority = 1
    member_id = factory.Sequence(lambda n: f"M{n:09d}")
    group_number = "G100"
    relationship = "18"
    effective_date = datetime.date(2024, 1, 1)
