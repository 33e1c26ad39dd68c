from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def after_login(request):
    if request.user.is_organizer:
        return redirect("core:organize")
    return redirect("core:home")
