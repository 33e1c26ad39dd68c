import re

from django.http import HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from rallypoint.mission.models import Campaign
from rallypoint.people.models import Person

from .kit import KIT_CHANNELS, intent_url, share_token_read, share_url
from .services import share_record

MASTODON_COOKIE = "rp_mastodon"
HOST_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CHANNEL_LABELS = dict(KIT_CHANNELS)
RECORDED_CHANNELS = {*CHANNEL_LABELS, "direct", "other"}


class ShareRedirect(HttpResponseRedirectBase):
    # Email and text-message links hand over to the phone's own apps.
    allowed_schemes = ["http", "https", "mailto", "sms"]
    status_code = 302


def mastodon_instance(raw: str) -> str:
    """ "mastodon.social", "https://mastodon.social/" or "@me@mastodon.social" → the host."""
    value = (raw or "").strip().lower()
    value = re.sub(r"^https?://", "", value).split("/")[0]
    if value.count("@"):
        value = value.rsplit("@", 1)[1]
    return value if HOST_RE.match(value) else ""


@never_cache
def go(request, channel):
    """Record the share act, then send the sharer on to the channel's ready-made message."""
    if channel not in RECORDED_CHANNELS:
        return HttpResponseBadRequest("Unknown share channel.")
    share = share_token_read(request.GET.get("s", ""))
    if share is None:
        return render(request, "sharing/link_broken.html", status=400)
    campaign = Campaign.objects.filter(pk=share.campaign_id).first() if share.campaign_id else None
    sharer = Person.objects.filter(pk=share.person_id).first() if share.person_id else None
    code = sharer.share_code if sharer else None
    url = share_url(share.url, code=code, channel=channel)
    instance = ""
    if channel == "mastodon":
        raw = request.GET.get("instance", "")
        instance = mastodon_instance(raw)
        if not instance:
            context = {
                "token": request.GET.get("s", ""),
                "instance": raw or request.COOKIES.get(MASTODON_COOKIE, ""),
                "error": "Enter your Mastodon server, like mastodon.social." if raw else "",
                "title": share.title,
            }
            return render(request, "sharing/mastodon.html", context, status=400 if raw else 200)
    if sharer is not None:
        share_record(person=sharer, channel=channel, url=share.url, campaign=campaign)
    if request.GET.get("beacon"):
        return HttpResponse(status=204)
    if channel in {"direct", "other"}:
        return ShareRedirect(url)
    response = ShareRedirect(
        intent_url(channel, url=url, campaign=campaign, title=share.title, instance=instance)
    )
    if instance:
        response.set_cookie(MASTODON_COOKIE, instance, max_age=365 * 24 * 3600, samesite="Lax")
    return response
