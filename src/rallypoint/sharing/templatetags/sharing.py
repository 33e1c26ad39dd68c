"""{% load sharing %}: the share kit and the OpenGraph/Twitter-card tags.

{% share_kit request=request person=person url=page_url title=action.title campaign=campaign %}
{% og_meta request=request title=... description=... image=... %}
"""

import secrets
from typing import Any

from django import template
from django.conf import settings

from ..kit import absolute_url, share_kit_build, strip_referral

register = template.Library()


@register.inclusion_tag("sharing/share_kit.html")
def share_kit(
    *,
    request: Any = None,
    person: Any = None,
    url: str = "",
    title: str = "",
    campaign: Any = None,
    heading: str = "Spread the word",
    blurb: str = "",
) -> dict[str, Any]:
    """`person` is the sharer (None: the visitor's own dashboard identity, if any). `url` is the
    page to share (default: the current page); `title` goes into the pre-written texts."""
    if person is None and request is not None:
        from rallypoint.ledger.dashboard import dashboard_person

        person = dashboard_person(request)
    if not url:
        url = request.path if request is not None else "/"
    if not title:
        title = getattr(campaign, "name", "") or settings.RALLYPOINT_BRAND["name"]
    base = f"{request.scheme}://{request.get_host()}" if request is not None else None
    kit = share_kit_build(person=person, url=url, title=title, campaign=campaign, base=base)
    return {
        "kit": kit,
        "person": person,
        "heading": heading,
        "blurb": blurb,
        "uid": secrets.token_hex(3),
    }


@register.inclusion_tag("sharing/og_meta.html")
def og_meta(
    *,
    request: Any = None,
    title: str,
    description: str = "",
    image: str = "",
    url: str = "",
) -> dict[str, Any]:
    """OpenGraph + Twitter-card tags, so a shared link previews with its title, text and image.
    The canonical URL drops ref codes: every sharer's link previews as the same page."""
    page = url or (request.get_full_path() if request is not None else "/")
    base = f"{request.scheme}://{request.get_host()}" if request is not None else None
    return {
        "title": title,
        "description": (description or settings.RALLYPOINT_BRAND["tagline"])[:300],
        "image": absolute_url(image, base) if image else "",
        "url": strip_referral(absolute_url(page, base)),
        "site_name": settings.RALLYPOINT_BRAND["name"],
    }
