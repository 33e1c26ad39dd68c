"""My Rallypoint: a supporter's own dashboard, reached by login or by a signed emailed link."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rallypoint.core.ratelimit import client_ip, hit
from rallypoint.people.normalize import email_key
from rallypoint.people.services import person_update

from .dashboard import (
    dashboard_link_send,
    dashboard_password_set,
    dashboard_person,
    dashboard_session_end,
    dashboard_session_start,
    dashboard_token_read,
)
from .forms import LinkRequestForm, PasswordSetForm, VisibilityForm
from .queries import supporter_dashboard

LINK_SENT = (
    "If that address is on our list, a link to your dashboard is on its way. It works for 30 days."
)
LINK_LIMIT_PER_IP = (10, 3600)
AFTER_LINK_SESSION_KEY = "ledger.after_link"
LINK_LIMIT_PER_EMAIL = (3, 3600)


@never_cache
def dashboard(request):
    person = dashboard_person(request)
    if person is None:
        return render(request, "ledger/signin.html", {"form": LinkRequestForm()})
    context = supporter_dashboard(person)
    context["visibility_form"] = VisibilityForm(initial={"public_display": person.public_display})
    context["password_form"] = PasswordSetForm()
    context["has_account"] = request.user.is_authenticated or context["has_account"]
    return render(request, "ledger/dashboard.html", context)


@never_cache
def dashboard_link_open(request, token):
    person = dashboard_token_read(token)
    if person is None:
        return render(request, "ledger/link_expired.html", {"form": LinkRequestForm()}, status=400)
    user = request.user
    if user.is_authenticated and user.person_id != person.pk:
        return render(request, "ledger/link_other_user.html", status=409)
    if not user.is_authenticated:
        account = getattr(person, "account", None)
        if account is not None and account.is_active and not account.is_organizer:
            # A supporter's own account: the link proves the inbox, like a password reset.
            login(request, account, backend="django.contrib.auth.backends.ModelBackend")
        else:
            # Organizer accounts never log in by emailed link; their dashboard view is enough.
            dashboard_session_start(request, person)
    next_url = _safe_next(request, request.session.pop(AFTER_LINK_SESSION_KEY, "") or "")
    return redirect(next_url or "ledger:dashboard")


def _safe_next(request, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


@require_POST
def link_request(request):
    """ "Email me my link again": rate limited, and the same answer whoever asks."""
    form = LinkRequestForm(request.POST)
    next_url = _safe_next(request, request.POST.get("next", ""))
    if not form.is_valid():
        return render(request, "ledger/signin.html", {"form": form}, status=400)
    allowed_ip, wait = hit(
        f"dashlink:ip:{client_ip(request)}", limit=LINK_LIMIT_PER_IP[0], window=LINK_LIMIT_PER_IP[1]
    )
    key = email_key(form.cleaned_data["email"])
    allowed_email, _ = hit(
        f"dashlink:email:{key}", limit=LINK_LIMIT_PER_EMAIL[0], window=LINK_LIMIT_PER_EMAIL[1]
    )
    if not allowed_ip:
        form.add_error(None, f"Too many requests from here. Try again in {wait // 60 + 1} minutes.")
        return render(request, "ledger/signin.html", {"form": form}, status=429)
    if allowed_email:
        dashboard_link_send(email=form.cleaned_data["email"])
    if next_url:
        # Where the link should bring them back to (the host form that asked who they are),
        # when they open it in this browser.
        request.session[AFTER_LINK_SESSION_KEY] = next_url
    messages.success(request, LINK_SENT)
    return redirect(next_url or "ledger:dashboard")


@require_POST
def visibility(request):
    person = dashboard_person(request)
    if person is None:
        return redirect("ledger:dashboard")
    form = VisibilityForm(request.POST)
    if form.is_valid():
        person_update(
            person=person,
            actor=request.user,
            public_display=form.cleaned_data["public_display"],
        )
        messages.success(
            request,
            "You're shown on leaderboards again."
            if person.public_display
            else "You're hidden from leaderboards and the public feed.",
        )
    return redirect("ledger:dashboard")


@require_POST
def password_set(request):
    person = dashboard_person(request)
    if person is None:
        return redirect("ledger:dashboard")
    form = PasswordSetForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            user = dashboard_password_set(person=person, password=form.cleaned_data["password"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Password set. From now on, log in with {user.email}.")
            return redirect("ledger:dashboard")
    else:
        error = " ".join(form.errors.get("password", []))
    messages.error(request, error or "Choose a password.")
    return redirect("ledger:dashboard")


@require_POST
def leave(request):
    dashboard_session_end(request)
    messages.success(request, "You've left your dashboard on this device.")
    return redirect("core:home")
