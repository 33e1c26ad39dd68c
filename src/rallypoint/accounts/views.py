from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from rallypoint.core.concurrency import write_slot
from rallypoint.core.permissions import admin_required
from rallypoint.core.ratelimit import client_ip, hit
from rallypoint.people.models import EmailStatus
from rallypoint.people.referral import Referral
from rallypoint.people.services import email_status_set

from .forms import (
    LoginForm,
    QueuedPasswordResetForm,
    RoleForm,
    SignupForm,
    SignupPasswordForm,
    StyledPasswordChangeForm,
    StyledSetPasswordForm,
)
from .models import Role, User
from .queries import role_changes, users_search
from .services import (
    SignupRequest,
    account_email_taken,
    account_link_person,
    account_signup,
    account_signup_request,
    email_subscription_set,
    signup_token_read,
    unsubscribe_token_read,
    user_role_set,
)

PAGE_SIZE = 25


@login_required
def after_login(request):
    if request.user.is_organizer:
        return redirect("core:organize")
    if request.user.person_id:
        return redirect("ledger:dashboard")
    return redirect("accounts:account")


# Why a page asks who you are, by the URL name it was asked from (the login page says it).
LOGIN_REASONS = {
    "events:create": "Hosts see the names and contact details of the people who come, so we "
    "ask who you are before you host an event.",
    "events:mine": "Your events list shows the events you host and your RSVPs.",
    "groups:create": "Group leaders see their members' contact details, so we ask who you are "
    "before you start a group.",
}
HOST_PREFIXES = ("events:", "groups:")


def login_reason(next_url: str) -> str:
    if not next_url:
        return ""
    try:
        match = resolve(urlsplit(next_url).path)
    except Resolver404:
        return ""
    name = f"{match.namespace}:{match.url_name}"
    if name in LOGIN_REASONS:
        return LOGIN_REASONS[name]
    if name.startswith(HOST_PREFIXES):
        return "This page is for the event's hosts and the group's leaders, so we ask who you are."
    return ""


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reason"] = login_reason(context.get("next") or "")
        return context

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.rate_limited:
            response.status_code = 429
        return response


SIGNUP_LIMIT_PER_IP = (20, 600)


def _safe_next(request, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


@write_slot
def signup(request):
    """Step one: name and email. Whatever the address, the answer is the same "check your
    inbox"; the address gets the link that finishes the sign-up (or says it has an account)."""
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignupForm(request.POST if request.method == "POST" else None)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.method == "POST":
        allowed, _ = hit(
            f"signup:{client_ip(request)}",
            limit=SIGNUP_LIMIT_PER_IP[0],
            window=SIGNUP_LIMIT_PER_IP[1],
        )
        if not allowed:
            form.is_valid()
            form.add_error(None, "Too many sign-ups from your network. Try again in a few minutes.")
            return render(
                request, "accounts/signup.html", {"form": form, "next": next_url}, status=429
            )
        if form.is_valid():
            data = form.cleaned_data
            referral = getattr(request, "referral", None)
            account_signup_request(
                signup=SignupRequest(
                    email=data["email"],
                    given_name=data.get("given_name", ""),
                    family_name=data.get("family_name", ""),
                    referral_code=getattr(referral, "code", "") or "",
                    referral_channel=getattr(referral, "channel", "") or "",
                    next_url=next_url,
                )
            )
            return redirect("accounts:signup_sent")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


def signup_sent(request):
    return render(request, "accounts/signup_sent.html")


@never_cache
@write_slot
def signup_confirm(request, token):
    """Step two, from the emailed link (proof of the address): choose a password; the login is
    created, linked to the person with that address, and logged in."""
    signup_request = signup_token_read(token)
    if signup_request is None:
        return render(request, "accounts/signup_link_expired.html", status=400)
    if request.user.is_authenticated:
        if request.user.email.lower() != signup_request.email.lower():
            messages.info(request, "You're logged in already. Log out first to use that link.")
        return redirect("accounts:after_login")
    if account_email_taken(signup_request.email):
        messages.info(request, "You already have an account. Log in, or reset your password.")
        return redirect("accounts:login")
    form = SignupPasswordForm(
        request.POST if request.method == "POST" else None, email=signup_request.email
    )
    if request.method == "POST" and form.is_valid():
        referral = getattr(request, "referral", None)
        if signup_request.referral_code:
            referral = Referral(
                code=signup_request.referral_code, channel=signup_request.referral_channel
            )
        try:
            user = account_signup(
                signup=signup_request, password=form.cleaned_data["password"], referral=referral
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your account is ready.")
            next_url = _safe_next(request, signup_request.next_url)
            return redirect(next_url or "accounts:account")
    return render(
        request, "accounts/signup_confirm.html", {"form": form, "email": signup_request.email}
    )


@login_required
def account(request):
    user = request.user
    if user.person_id is None:
        account_link_person(user=user)
    person = user.person
    context = {"person": person}
    if person is not None:
        context.update(
            emails=list(person.email_addresses.all()),
            phones=list(person.phone_numbers.all()),
            address=person.postal_addresses.first(),
        )
    return render(request, "accounts/account.html", context)


@login_required
@require_POST
def account_subscription(request):
    """The supporter's own choice: email me, or stop. This is the explicit resubscribe."""
    person = request.user.person
    choice = request.POST.get("status")
    if person is None or choice not in {EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED}:
        messages.error(request, "Choose whether you want campaign emails.")
        return redirect("accounts:account")
    for email in person.email_addresses.all():
        email_status_set(email=email, status=choice, actor=request.user)
    if choice == EmailStatus.SUBSCRIBED:
        messages.success(request, "You're subscribed to campaign emails.")
    else:
        messages.success(request, "You won't get campaign emails any more.")
    return redirect("accounts:account")


@csrf_exempt  # the signed token is the credential; mail clients' one-click POST has no cookie
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """The "stop campaign emails" link in emails: signed for one address, works without a login.
    GET asks (link scanners must not unsubscribe anyone); POST does it, including the one-click
    POST of RFC 8058 (`List-Unsubscribe=One-Click`). The same link can start emails again."""
    address = unsubscribe_token_read(token)
    if address is None:
        return render(request, "accounts/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        subscribed = request.POST.get("status") == EmailStatus.SUBSCRIBED
        address = email_subscription_set(address=address, subscribed=subscribed)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Unsubscribed.", content_type="text/plain; charset=utf-8")
        return redirect("accounts:unsubscribe", token=token)
    return render(
        request,
        "accounts/unsubscribe.html",
        {"address": address, "subscribed": address.status == EmailStatus.SUBSCRIBED},
    )


@admin_required
def team(request):
    q = (request.GET.get("q") or "").strip()[:200]
    page = Paginator(users_search(q), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/team.html",
        {
            "page": page,
            "q": q,
            "roles": Role.choices,
            "query_string": f"q={q}" if q else "",
            "changes": role_changes(),
        },
    )


@admin_required
@require_POST
def team_role(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect("accounts:team")
    try:
        user_role_set(user=user, role=form.cleaned_data["role"], actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{user.email} is now {user.get_role_display().lower()}.")
    return redirect("accounts:team")


password_reset = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset_form.html",
    form_class=QueuedPasswordResetForm,
    success_url=reverse_lazy("accounts:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    form_class=StyledSetPasswordForm,
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("accounts:account")
    success_message = "Your password was changed."


password_change = PasswordChangeView.as_view()
