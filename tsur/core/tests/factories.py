import factory

from tsur.core.choices import OrganisationKind, Role, TerritoryKind
from tsur.core.models import Building, Organisation, RoleAssignment, Territory, User


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Территория {n}")
    code = factory.Sequence(lambda n: f"t-{n}")
    kind = TerritoryKind.CITY_DISTRICT


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Организация {n}")
    kind = OrganisationKind.AGENCY
    email = factory.Sequence(lambda n: f"org{n}@example.org")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    address = factory.Sequence(lambda n: f"ул. Тестовая, д. {n}")
    territory = factory.SubFactory(TerritoryFactory)
    latitude = 59.93
    longitude = 30.31


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    password = factory.django.Password("pass-Word-123")


def user_with_role(role: str = Role.OPERATOR, organisation=None, territory=None, **kwargs) -> User:
    user = UserFactory(**kwargs)
    RoleAssignment.objects.create(user=user, role=role, organisation=organisation, territory=territory)
    return user
