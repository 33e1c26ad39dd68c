"""The public Join page: the first step from the home page."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from rallypoint.core.concurrency import write_slot
from rallypoint.core.ratelimit import client_ip, hit

from ..forms import JoinForm
from ..models import Person
from ..queries import person_by_share_code
from ..services import person_join

SESSION_KEY = "people.joined_person"
# The first name the visitor typed: the done page greets with it, never with the record's, so
# joining with someone else's address shows nothing of theirs.
NAME_KEY = "people.joined_name"
# Whether the join made a new person: only then is the share link on the done page theirs (an
# address typed by someone else must not hand them its owner's share code).
NEW_KEY = "people.joined_new"


def _rate(request) -> tuple[bool, int]:
    limit, window = getattr(settings, "JOIN_RATE_LIMIT", (30, 600))
    return hit(f"join:{client_ip(request)}", limit=limit, window=window)


@write_slot
def join(request):
    form = JoinForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        allowed, retry_after = _rate(request)
        if not allowed:
            minutes = max(1, round(retry_after / 60))
            form.is_valid()  # keep what they typed, with field errors if any
            form.add_error(
                None,
                "Lots of people have joined from your network in the last few minutes. "
                f"Please try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            )
            context = {"form": form, "inviter": _inviter(request)}
            return render(request, "people/join.html", context, status=429)
        if form.is_bot:
            # Same answer as a real join, so the bot learns nothing; nothing is stored.
            return redirect("people:join_done")
        if form.is_valid():
            try:
                person, created = person_join(
                    data=form.person_data(), referral=getattr(request, "referral", None)
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                request.session[SESSION_KEY] = person.pk
                request.session[NEW_KEY] = created
                request.session[NAME_KEY] = form.cleaned_data.get("given_name", "")[:60]
                return redirect("people:join_done")
    return render(request, "people/join.html", {"form": form, "inviter": _inviter(request)})


def _inviter(request) -> str:
    referral = getattr(request, "referral", None)
    person = person_by_share_code(referral.code) if referral else None
    return person.public_name if person and person.public_name != "Someone" else ""


def join_done(request):
    person_id = request.session.get(SESSION_KEY)
    person = Person.objects.filter(pk=person_id).first() if person_id else None
    context = {
        "joined": person is not None,
        "sharer": person if person is not None and request.session.get(NEW_KEY) else None,
        "name": request.session.get(NAME_KEY, ""),
    }
    return render(request, "people/join_done.html", context)
