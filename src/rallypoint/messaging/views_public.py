"""The links inside sent mail (/mail/m/): click redirects, the open pixel, unsubscribe and
preferences, the double opt-in link, and the email provider's tracking webhook.

Every page here is reached from a signed link, without a login. Tracking never gets in a
person's way: when the write slots are busy a click still redirects and the pixel still loads,
only unrecorded.
"""

from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailersend import MailerSendTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.mailtrap import MailtrapTrackingWebhookView
from anymail.webhooks.mandrill import MandrillCombinedWebhookView
from anymail.webhooks.postal import PostalTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from anymail.webhooks.unisender_go import UnisenderGoTrackingWebhookView
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from rallypoint.core.concurrency import Busy, write_slot, write_turn
from rallypoint.people.models import EmailStatus

from .models import MailKind
from .services.images import mail_image_by_name
from .services.suppression import (
    delivery_unsubscribe,
    preferences_read,
    preferences_save,
    preferences_token_read,
    preferences_url,
    resubscribe_confirm,
    resubscribe_request,
    resubscribe_token_read,
    unsubscribe_token_read,
)
from .services.tracking import (
    PIXEL_GIF,
    click_landing,
    click_record,
    click_token_read,
    open_record,
)

BROKEN = "messaging/public/link_broken.html"


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:500]


# --- tracking -----------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD"])
def track_click(request, token: str):
    """A link of a sent mailing: record the click, then go to that mailing's link (never
    anywhere else)."""
    parsed = click_token_read(token)
    if parsed is None:
        return render(request, BROKEN, status=400)
    try:
        with write_turn():
            result = click_record(
                token=parsed, user_agent=_user_agent(request), head=request.method == "HEAD"
            )
            url = result.url if result is not None else None
    except Busy:
        url = click_landing(parsed)
    if url is None:
        return render(request, BROKEN, {"gone": True}, status=404)
    response = HttpResponseRedirect(url)
    # The signed link stays with us: the page it leads to does not see it as its referrer.
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_http_methods(["GET", "HEAD"])
def track_open(request, token: str):
    """The open pixel: a 1×1 GIF, never cached, whatever the token says."""
    try:
        with write_turn():
            open_record(token=token, user_agent=_user_agent(request), head=request.method == "HEAD")
    except Busy:
        pass
    return HttpResponse(PIXEL_GIF, content_type="image/gif")


# --- unsubscribe and preferences ----------------------------------------------------------------


@csrf_exempt  # the signed token is the credential; a mail client's one-click POST has no cookie
@never_cache
@write_slot
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """List-Unsubscribe's HTTPS link. POST unsubscribes at once (RFC 8058's one-click POST
    answers a bare 200; the page's button comes back to the page); GET only asks, so link
    scanners cannot unsubscribe anyone."""
    delivery = unsubscribe_token_read(token)
    if delivery is None:
        return render(request, "messaging/public/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        one_click = "List-Unsubscribe" in request.POST
        delivery_unsubscribe(delivery=delivery, via="one-click" if one_click else "link")
        if one_click:
            return HttpResponse("Unsubscribed.", content_type="text/plain; charset=utf-8")
        return redirect("messaging:unsubscribe", token=token)
    prefs = preferences_read(delivery)
    return render(
        request,
        "messaging/public/unsubscribe.html",
        {
            "address": prefs.address,
            "subscribed": prefs.subscribed,
            "preferences_url": preferences_url(delivery),
        },
    )


class PreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="Send me",
        choices=MailKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    stop_all = forms.BooleanField(label="Stop all campaign email", required=False)


@never_cache
@write_slot
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request, token: str):
    """Which kinds of campaign mail the recipient gets, or none; starting again after an
    unsubscribe is confirmed by a link emailed to the address."""
    delivery = preferences_token_read(token)
    if delivery is None:
        return render(request, "messaging/public/preferences.html", {"invalid": True}, status=400)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "resubscribe":
        if resubscribe_request(delivery=delivery):
            messages.success(
                request,
                "We emailed you a link. Open it to get campaign email again.",
            )
        return redirect("messaging:preferences", token=token)
    prefs = preferences_read(delivery)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            preferences_save(
                delivery=delivery,
                kinds=form.cleaned_data["kinds"],
                stop_all=form.cleaned_data["stop_all"],
            )
            messages.success(request, "Your email choices are saved.")
            return redirect("messaging:preferences", token=token)
        status = 400
    else:
        form = PreferencesForm(
            initial={"kinds": [kind for kind in MailKind.values if kind not in prefs.stopped]}
        )
    return render(
        request,
        "messaging/public/preferences.html",
        {"form": form, "address": prefs.address, "subscribed": prefs.subscribed},
        status=status,
    )


@never_cache
@write_slot
@require_http_methods(["GET", "HEAD", "POST"])
def resubscribe(request, token: str):
    """The link of the confirmation email: GET asks (a scanner opening it changes nothing),
    POST starts campaign mail again."""
    address = resubscribe_token_read(token)
    if address is None:
        return render(request, "messaging/public/resubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        resubscribe_confirm(address=address)
        return redirect("messaging:resubscribe", token=token)
    return render(
        request,
        "messaging/public/resubscribe.html",
        {"address": address, "subscribed": address.status == EmailStatus.SUBSCRIBED},
    )


# --- the email provider's webhook ---------------------------------------------------------------

# anymail's tracking webhook view per provider (the names of anymail's own URLs).
TRACKING_WEBHOOKS = {
    "amazon_ses": AmazonSESTrackingWebhookView,
    "brevo": BrevoTrackingWebhookView,
    "mailersend": MailerSendTrackingWebhookView,
    "mailgun": MailgunTrackingWebhookView,
    "mailjet": MailjetTrackingWebhookView,
    "mailtrap": MailtrapTrackingWebhookView,
    "mandrill": MandrillCombinedWebhookView,
    "postal": PostalTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "resend": ResendTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "sparkpost": SparkPostTrackingWebhookView,
    "unisender_go": UnisenderGoTrackingWebhookView,
}


def webhook_secret_set() -> bool:
    return bool((getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET"))


@csrf_exempt  # the provider signs its requests (checked by anymail), it has no cookie
@write_slot
def provider_webhook(request, esp: str):
    """The provider's delivery and tracking events, checked and parsed by anymail's view for
    that provider (basic auth with ANYMAIL["WEBHOOK_SECRET"], and the provider's own signature
    where it has one), then handed to `signals.tracking_event_received`. Without a webhook
    secret there is no webhook: anymail alone would accept unsigned events from anyone."""
    view = TRACKING_WEBHOOKS.get(esp)
    if view is None or not webhook_secret_set():
        raise Http404("No such webhook.")
    try:
        return view.as_view()(request)
    except ImproperlyConfigured as exc:  # e.g. Mailgun without its webhook signing key
        raise Http404("This webhook is not configured.") from exc


@require_http_methods(["GET", "HEAD"])
def image(request, name: str):
    """An image uploaded for a mailing. Its address never changes content, so mail clients and
    image proxies may keep it for a year."""
    found = mail_image_by_name(name)
    if found is None:
        raise Http404("No such image.")
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404("No such image.") from None
    response = FileResponse(handle, content_type=found.content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
