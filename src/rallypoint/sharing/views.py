import re

from django.http import HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from rallypoint.ledger.hooks import campaigns_by_id
from rallypoint.people.models import Person

from .kit import KIT_CHANNELS, intent_url, share_token_read, share_url
from .services import share_record

MASTODON_COOKIE = "rp_mastodon"
# A plain DNS name with a letter (or punycode) top-level label: never an IP, port, path or user.
HOST_RE = re.compile(
    r"(?=.{4,253}\Z)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
CHANNEL_LABELS = dict(KIT_CHANNELS)
RECORDED_CHANNELS = {*CHANNEL_LABELS, "direct", "other"}


class ShareRedirect(HttpResponseRedirectBase):
    # Email and text-message links hand over to the phone's own apps.
    allowed_schemes = ["http", "https", "mailto", "sms"]
    status_code = 302


HANDLE_RE = re.compile(r"^@?[a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?@(?P<host>[^@]+)$")


def mastodon_instance(raw: str) -> str:
    """A Mastodon server as a plain host name: "mastodon.social", or the server of a handle
    "@me@mastodon.social". Anything else (a scheme, path, port, user info, an IP address, a
    backslash, spaces, a trailing dot) is not a server name and gives ""."""
    value = (raw or "").strip().lower()
    handle = HANDLE_RE.match(value)
    if handle:
        value = handle["host"]
    return value if HOST_RE.fullmatch(value) else ""


def _mastodon_page(request, *, token: str, share, instance: str, error: str, status: int):
    context = {"token": token, "instance": instance, "error": error, "title": share.title}
    return render(request, "sharing/mastodon.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def go(request, channel):
    """Record the share act, then send the sharer on to the channel's ready-made message."""
    if channel not in RECORDED_CHANNELS:
        return HttpResponseBadRequest("Unknown share channel.")
    share = share_token_read(request.POST.get("s") or request.GET.get("s", ""))
    if share is None:
        return render(request, "sharing/link_broken.html", status=400)
    campaign = (
        campaigns_by_id([share.campaign_id]).get(share.campaign_id) if share.campaign_id else None
    )
    sharer = Person.objects.filter(pk=share.person_id).first() if share.person_id else None
    code = sharer.share_code if sharer else None
    url = share_url(share.url, code=code, channel=channel)
    instance = ""
    if channel == "mastodon":
        # Only the sharer's own form (a POST, so a CSRF-checked one) leads on to a server: a link
        # naming a server can prefill the form, never redirect (no open redirect to any host).
        token = request.POST.get("s") or request.GET.get("s", "")
        raw = (request.POST if request.method == "POST" else request.GET).get("instance", "")
        instance = mastodon_instance(raw)
        if request.method != "POST" or not instance:
            refused = bool(raw) and not instance
            return _mastodon_page(
                request,
                token=token,
                share=share,
                instance=instance or mastodon_instance(request.COOKIES.get(MASTODON_COOKIE, "")),
                error="Enter your Mastodon server's name only, like mastodon.social."
                if refused
                else "",
                status=400 if refused else 200,
            )
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
