"""Organizer pages: register webhooks, see their delivery log, pause, test, resend."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rallypoint.core.permissions import organizer_required

from . import services
from .forms import HookForm
from .models import Delivery, Hook
from .queries import deliveries_for_hook, hooks_for_listing


def _apply_errors(form: HookForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@organizer_required
def hook_list(request):
    return render(request, "webhooks/hook_list.html", {"hooks": hooks_for_listing()})


@organizer_required
def hook_create(request):
    form = HookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hook = services.hook_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, f"Added “{hook.name}”. Copy its signing secret below into the receiver."
            )
            return redirect("webhooks:detail", pk=hook.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "webhooks/hook_form.html", {"form": form}, status=status)


@organizer_required
def hook_detail(request, pk: int):
    hook = get_object_or_404(Hook.objects.select_related("created_by"), pk=pk)
    form = HookForm(
        request.POST or None,
        initial={"name": hook.name, "url": hook.url, "event_types": hook.event_types},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.hook_update(hook=hook, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("webhooks:detail", pk=hook.pk)
    page = Paginator(deliveries_for_hook(hook), 50).get_page(request.GET.get("page"))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "webhooks/hook_detail.html",
        {"hook": hook, "form": form, "page": page, "deliveries": page.object_list},
        status=status,
    )


@organizer_required
@require_POST
def hook_toggle(request, pk: int):
    hook = get_object_or_404(Hook, pk=pk)
    services.hook_set_active(hook=hook, active=not hook.is_active, actor=request.user)
    messages.success(
        request, "Resumed: waiting events are on their way." if hook.is_active else "Paused."
    )
    return redirect("webhooks:detail", pk=hook.pk)


@organizer_required
@require_POST
def hook_rotate_secret(request, pk: int):
    hook = get_object_or_404(Hook, pk=pk)
    services.hook_rotate_secret(hook=hook, actor=request.user)
    messages.success(request, "New signing secret made. Update the receiver now.")
    return redirect("webhooks:detail", pk=hook.pk)


@organizer_required
@require_POST
def hook_test(request, pk: int):
    hook = get_object_or_404(Hook, pk=pk)
    services.hook_send_test(hook=hook, actor=request.user)
    messages.success(request, "Test event sent: its result is at the top of the log.")
    return redirect("webhooks:detail", pk=hook.pk)


@organizer_required
@require_POST
def hook_delete(request, pk: int):
    hook = get_object_or_404(Hook, pk=pk)
    name = hook.name
    services.hook_delete(hook=hook, actor=request.user)
    messages.success(request, f"Deleted “{name}”.")
    return redirect("webhooks:list")


@organizer_required
def delivery_detail(request, pk: int, delivery_pk: int):
    delivery = get_object_or_404(
        Delivery.objects.select_related("hook"), pk=delivery_pk, hook_id=pk
    )
    return render(
        request, "webhooks/delivery_detail.html", {"delivery": delivery, "hook": delivery.hook}
    )


@organizer_required
@require_POST
def delivery_resend(request, pk: int, delivery_pk: int):
    delivery = get_object_or_404(Delivery, pk=delivery_pk, hook_id=pk)
    services.delivery_resend(delivery=delivery, actor=request.user)
    messages.success(request, "Sending again.")
    return redirect("webhooks:detail", pk=pk)
