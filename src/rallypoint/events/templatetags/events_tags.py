"""Event times in the event's own zone (server side), marked up so the viewer's browser can add
its own local time (static/events/localtime.js)."""

from django import template
from django.utils.html import format_html

from rallypoint.people.questions import answer_text

from ..when import shift_text, when_text

register = template.Library()


@register.simple_tag
def event_when(event):
    return format_html(
        '<time datetime="{}" data-localtime data-zone="{}">{}</time>',
        event.starts_at.isoformat(),
        event.timezone,
        when_text(event),
    )


@register.simple_tag
def calendar_links(event, going: bool = False):
    """ "Add to calendar": the .ics file, Google Calendar and Outlook. The address and the join
    link go only to people going (and hosts)."""
    from django.urls import reverse

    from ..calendar import google_calendar_url, outlook_calendar_url

    return format_html(
        'Add to calendar: <a href="{}">Apple / .ics</a> · '
        '<a href="{}" target="_blank" rel="noopener">Google</a> · '
        '<a href="{}" target="_blank" rel="noopener">Outlook</a>',
        reverse("events:ics", args=[event.uuid]),
        google_calendar_url(event, with_join_url=going),
        outlook_calendar_url(event, with_join_url=going),
    )


@register.filter
def event_day(event, part: str = "j") -> str:
    """The event's own local day for date badges: "M" → "Dec", "j" → "3". Never the viewer's
    or the server's zone (Django's |date would convert to the current time zone first)."""
    start = event.local_start
    return f"{start:%b}" if part == "M" else str(start.day)


@register.filter
def when(event) -> str:
    return when_text(event)


@register.filter
def hours_before(minutes: int) -> str:
    minutes = int(minutes)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "tomorrow" if days == 1 else f"in {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "in 1 hour" if hours == 1 else f"in {hours} hours"
    return f"in {minutes} minutes"


@register.filter
def shift_when(shift) -> str:
    return shift_text(shift)


@register.filter
def answers_to(rsvp, questions) -> list[tuple[str, str]]:
    """(question, answer) for each of `questions`, in order, the answer as text ("" when not
    answered)."""
    return [(q.label, answer_text(rsvp.answers.get(str(q.pk)))) for q in questions]


@register.filter
def template_days(template) -> str:
    """When a day of action's events happen: “on Sat, Oct 12, 2030”."""
    from ..services.template import days_text

    return days_text(template)
