"""Organizer pages: issue, list and revoke API keys."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rallypoint.core.permissions import organizer_required

from ..forms import ApiKeyForm
from ..models import ApiKey
from ..queries import apikeys_for_listing
from ..services import apikey_create, apikey_revoke


@organizer_required
def key_list(request):
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            key, new_key = apikey_create(
                name=form.cleaned_data["name"], scope=form.cleaned_data["scope"], actor=request.user
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            form = ApiKeyForm()
            response = render(
                request,
                "api/keys.html",
                {
                    "form": form,
                    "keys": apikeys_for_listing(),
                    "new_key": new_key,
                    "new_key_record": key,
                    "api_root": request.build_absolute_uri("/api/v1"),
                },
            )
            # The key is shown this once: keep it out of caches and history.
            response["Cache-Control"] = "no-store"
            return response
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "api/keys.html",
        {
            "form": form,
            "keys": apikeys_for_listing(),
            "api_root": request.build_absolute_uri("/api/v1"),
        },
        status=status,
    )


@organizer_required
@require_POST
def key_revoke(request, pk: int):
    key = get_object_or_404(ApiKey, pk=pk)
    apikey_revoke(key=key, actor=request.user)
    messages.success(request, f"Revoked “{key.name}”. Requests with it are refused from now on.")
    return redirect("api:keys")
