"""Role checks for views: anonymous visitors go to login, logged-in non-organizers get 403.

They read the role properties the user model gives (`is_organizer`, `is_admin`; see
accounts.models.User), so every app's pages can use them, people's included."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def organizer_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_organizer:
            raise PermissionDenied("Organizers only.")
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_admin:
            raise PermissionDenied("Admins only.")
        return view(request, *args, **kwargs)

    return wrapper


class OrganizerRequiredMixin:
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_organizer:
            raise PermissionDenied("Organizers only.")
        return super().dispatch(request, *args, **kwargs)
