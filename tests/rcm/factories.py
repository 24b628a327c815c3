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
