from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from rallypoint.core.ratelimit import client_ip, hit
from rallypoint.people.models import EmailStatus
from rallypoint.people.services import email_status_set

from .forms import (
    LoginForm,
    QueuedPasswordResetForm,
    RoleForm,
    SignupForm,
    StyledPasswordChangeForm,
    StyledSetPasswordForm,
)
from .models import Role, User
from .permissions import admin_required
from .queries import role_changes, users_search
from .services import account_link_person, account_signup, user_role_set

PAGE_SIZE = 25


@login_required
def after_login(request):
    if request.user.is_organizer:
        return redirect("core:organize")
    if request.user.person_id:
        return redirect("ledger:dashboard")
    return redirect("accounts:account")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignupForm(request.POST if request.method == "POST" else None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST":
        allowed, _ = hit(f"signup:{client_ip(request)}", limit=20, window=600)
        if not allowed:
            form.is_valid()
            form.add_error(None, "Too many sign-ups from your network. Try again in a few minutes.")
            return render(request, "accounts/signup.html", {"form": form, "next": next_url}, 429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = account_signup(
                    email=data["email"],
                    password=data["password"],
                    given_name=data.get("given_name", ""),
                    family_name=data.get("family_name", ""),
                    referral=getattr(request, "referral", None),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, "Welcome! Your account is ready.")
                if next_url and url_has_allowed_host_and_scheme(
                    next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                ):
                    return redirect(next_url)
                return redirect("accounts:account")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


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
