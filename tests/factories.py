"""factory_boy factories shared by the whole suite. Apps add theirs here as they land."""

import factory
from django.contrib.auth import get_user_model

from rallypoint.accounts.models import Role
from rallypoint.people.models import EmailAddress, Person, PhoneNumber, PostalAddress, Tag, Tagging


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")


class EmailAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailAddress

    person = factory.SubFactory(PersonFactory)
    address = factory.Sequence(lambda n: f"person{n}@example.org")
    address_normalized = factory.LazyAttribute(lambda o: o.address.strip().lower())
    primary = True


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    person = factory.SubFactory(PersonFactory)
    number = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    primary = True
    number_type = "mobile"


class PostalAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostalAddress

    person = factory.SubFactory(PersonFactory)
    primary = True
    postal_code = "80202"
    locality = "Denver"
    region = "CO"
    country = "US"
    latitude = 39.7527
    longitude = -104.9996


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag {n}")


class TaggingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tagging

    person = factory.SubFactory(PersonFactory)
    tag = factory.SubFactory(TagFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    role = Role.SUPPORTER
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class OrganizerFactory(UserFactory):
    role = Role.ORGANIZER
