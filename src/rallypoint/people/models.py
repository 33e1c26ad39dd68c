import secrets

from django.db import models
from django.db.models.functions import Lower

from rallypoint.core.models import TimeStampedModel

SHARE_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


SHARE_CODE_LENGTH = 10
# Random bytes below 248 (8 × 31) map to the 31 letters evenly; the others are dropped.
_SHARE_CODE_BYTES = bytes(
    ord(SHARE_CODE_ALPHABET[b % len(SHARE_CODE_ALPHABET)]) for b in range(256)
)
_SHARE_CODE_DROP = bytes(range(256 - 256 % len(SHARE_CODE_ALPHABET), 256))


def new_share_codes(count: int) -> list[str]:
    """`count` share codes: 10 characters each from a 31-letter alphabet, uniformly random
    (~8e14 codes, not guessable by enumeration), from a few calls to the system's CSPRNG."""
    need = count * SHARE_CODE_LENGTH
    letters = b""
    while len(letters) < need:
        # 248 of 256 byte values are kept: ask for a little more than needed.
        chunk = secrets.token_bytes((need - len(letters)) * 33 // 32 + 8)
        letters += chunk.translate(_SHARE_CODE_BYTES, _SHARE_CODE_DROP)
    text = letters[:need].decode("ascii")
    return [text[i : i + SHARE_CODE_LENGTH] for i in range(0, need, SHARE_CODE_LENGTH)]


def new_share_code() -> str:
    return new_share_codes(1)[0]


class Person(TimeStampedModel):
    """One supporter, however they arrived. Shaped after OSDI's person."""

    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    additional_name = models.CharField(max_length=100, blank=True)
    honorific_prefix = models.CharField(max_length=30, blank=True)
    honorific_suffix = models.CharField(max_length=30, blank=True)
    languages_spoken = models.JSONField(default=list, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=200, blank=True)
    # Identifiers that other systems posted for this person ("action_network:…", "vendor:…").
    foreign_identifiers = models.JSONField(default=list, blank=True)
    # Unique through Meta.constraints rather than unique=True, which on PostgreSQL would add a
    # second (varchar_pattern_ops) index that only LIKE lookups use; share codes are matched
    # exactly.
    share_code = models.CharField(max_length=16, default=new_share_code)
    # Supporters may stay off public leaderboards and activity feeds.
    public_display = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(Lower("family_name"), Lower("given_name"), name="person_name_ci"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["share_code"], name="person_share_code_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or f"Person {self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)

    @property
    def public_name(self) -> str:
        """What public pages show: first name and last initial, or "Someone" when anonymous."""
        if not self.public_display or not self.given_name:
            return "Someone"
        initial = f" {self.family_name[0]}." if self.family_name else ""
        return f"{self.given_name}{initial}"


class EmailStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCING = "bouncing", "Bouncing"
    PREVIOUS_BOUNCE = "previous bounce", "Previous bounce"
    SPAM_COMPLAINT = "spam complaint", "Spam complaint"
    PREVIOUS_SPAM_COMPLAINT = "previous spam complaint", "Previous spam complaint"


class EmailAddress(models.Model):
    # No index of its own: (person, primary) in Meta leads with it.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="email_addresses", db_index=False
    )
    address = models.CharField(max_length=254)  # as entered (trimmed)
    # trimmed + lowercased: the matching key. Dots and plus-tags are kept: they may be real.
    # Unique through Meta.constraints, not unique=True: no LIKE-only index on PostgreSQL (lookups
    # are exact, IN, or a >=/< range, which the plain unique index serves).
    address_normalized = models.CharField(max_length=254)
    primary = models.BooleanField(default=False)
    address_type = models.CharField(max_length=20, blank=True)
    status = models.CharField(
        max_length=30, choices=EmailStatus.choices, default=EmailStatus.SUBSCRIBED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["address_normalized"], name="email_address_normalized_unique"
            ),
        ]
        indexes = [models.Index(fields=["person", "primary"])]

    def __str__(self) -> str:
        return self.address


class PhoneNumber(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phone_numbers")
    number = models.CharField(max_length=20, db_index=True)  # E.164, e.g. +15555550123
    primary = models.BooleanField(default=False)
    number_type = models.CharField(max_length=20, blank=True)  # mobile, landline, voip, …
    sms_capable = models.BooleanField(default=False)
    sms_consent = models.BooleanField(default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    do_not_call = models.BooleanField(default=False)
    status = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "number"], name="phone_unique_per_person")
        ]

    def __str__(self) -> str:
        return self.number


class PostalAddress(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="postal_addresses")
    primary = models.BooleanField(default=False)
    address_type = models.CharField(max_length=20, blank=True)
    address_lines = models.JSONField(default=list, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    # Indexed through Meta.indexes, not db_index=True: no LIKE-only index on PostgreSQL (regions
    # are matched with IN or iexact, never a prefix).
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True, db_index=True)
    country = models.CharField(max_length=2, blank=True, default="US")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    accuracy = models.CharField(max_length=20, blank=True)  # "rooftop", "approximate"
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-primary", "id"]
        indexes = [
            models.Index(fields=["latitude", "longitude"]),
            models.Index(fields=["region"], name="postaladdress_region"),
        ]

    def __str__(self) -> str:
        parts = [*self.address_lines, self.locality, self.region, self.postal_code]
        return ", ".join(p for p in parts if p)


class Tag(TimeStampedModel):
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Tagging(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggings")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "tag"], name="tagging_unique_person_tag")
        ]
        indexes = [models.Index(fields=["tag", "person"])]

    def __str__(self) -> str:
        return f"{self.tag_id}→{self.person_id}"
