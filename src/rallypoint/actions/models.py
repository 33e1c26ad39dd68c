"""One engine for petitions, pledges and sign-up forms: an Action, its Questions, Submissions."""

from django.db import models
from django.db.models import Q

from rallypoint.core.models import TimeStampedModel

# QuestionKind is shared with events (people.questions) and stays importable from here.
from rallypoint.people.questions import QuestionBase, QuestionKind  # noqa: F401


class ActionKind(models.TextChoices):
    PETITION = "petition", "Petition"
    PLEDGE = "pledge", "Pledge"
    FORM = "form", "Sign-up form"


class ActionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    LIVE = "live", "Live"
    CLOSED = "closed", "Closed"


# The ledger kind each action kind writes.
LEDGER_KIND = {ActionKind.PETITION: "sign", ActionKind.PLEDGE: "pledge", ActionKind.FORM: "submit"}


class Action(TimeStampedModel):
    """Something a supporter can put their name to. Kind decides the wording and the ledger act."""

    kind = models.CharField(max_length=10, choices=ActionKind.choices, default=ActionKind.PETITION)
    campaign = models.ForeignKey(
        "mission.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)  # sanitised HTML (nh3), see services
    # Petitions: who it is addressed to (OSDI target[{name}]) and the text people sign.
    targets = models.JSONField(default=list, blank=True)
    petition_text = models.TextField(blank=True)
    # Pledges: the promise itself, e.g. "I will vote on November 4".
    pledge_headline = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=ActionStatus.choices, default=ActionStatus.DRAFT, db_index=True
    )
    goal = models.PositiveIntegerField(null=True, blank=True)
    thank_you_message = models.TextField(blank=True)
    button_label = models.CharField(max_length=60, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def ledger_kind(self) -> str:
        return LEDGER_KIND[ActionKind(self.kind)]

    @property
    def once_per_person(self) -> bool:
        """Petitions and pledges take one name per person; forms may be sent again."""
        return self.kind in {ActionKind.PETITION, ActionKind.PLEDGE}

    @property
    def is_live(self) -> bool:
        return self.status == ActionStatus.LIVE

    @property
    def verb(self) -> str:
        return {"petition": "signed", "pledge": "pledged", "form": "signed up"}[self.kind]

    @property
    def noun_plural(self) -> str:
        return {"petition": "signatures", "pledge": "pledges", "form": "sign-ups"}[self.kind]

    @property
    def default_button_label(self) -> str:
        return (
            self.button_label
            or {
                "petition": "Add your name",
                "pledge": "I pledge",
                "form": "Sign up",
            }[self.kind]
        )

    @property
    def target_names(self) -> str:
        return ", ".join(t.get("name", "") for t in self.targets if t.get("name"))


class Question(QuestionBase):
    """An organizer's extra question on a sign-up form (its fields: `people.questions`)."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="questions")

    class Meta(QuestionBase.Meta):
        pass


class Submission(models.Model):
    """One person's name on one action. `counted` marks the one that counts (and was written to
    the ledger); a repeat of a sign-up form is kept with counted=False."""

    # No index of its own: (action, counted, created_at) in Meta leads with it.
    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="submissions", db_index=False
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="submissions"
    )
    answers = models.JSONField(default=dict, blank=True)  # {"<question id>": value}
    comment = models.TextField(blank=True)
    referrer = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=20, blank=True)  # page, embed, api, import, demo
    counted = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "person"],
                condition=Q(counted=True),
                name="one_counted_submission_per_person",
            )
        ]
        indexes = [models.Index(fields=["action", "counted", "created_at"])]

    def __str__(self) -> str:
        return f"{self.person_id} on {self.action_id}"
