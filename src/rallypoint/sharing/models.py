"""Share-link visits: how many times someone's link brought a browser to a page, per day, code,
channel and page. The numerator of a channel's conversion rate is in the ledger (acts by the
people the channel brought in); this is its denominator."""

from django.db import models


class ShareVisit(models.Model):
    day = models.DateField()
    code = models.CharField(max_length=32)  # the sharer's share code (Person.share_code)
    channel = models.CharField(max_length=20)
    path = models.CharField(max_length=200)  # the page the link opened, without its query
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "code", "channel", "path"], name="share_visit_once_per_day"
            )
        ]
        indexes = [models.Index(fields=["path", "day"], name="share_visit_path_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.code} {self.channel} {self.path}: {self.count}"
