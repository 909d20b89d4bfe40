"""factory_boy factories for users."""

import factory

from users.models import User

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A member with a known password (TEST_PASSWORD)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    # Predictable names keep name-search tests free of accidental matches.
    name = factory.Sequence(lambda n: f"Member {n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password(TEST_PASSWORD)
