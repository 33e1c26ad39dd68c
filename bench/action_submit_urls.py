"""The product's URLs plus the baseline of bench/action_submit.py: one ORM INSERT per request."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rallypoint.core.models import AuditEntry
from rallypoint.urls import urlpatterns as product_urlpatterns


@csrf_exempt
@require_POST
def insert_one(request):
    """The cheapest honest write: parse the form, insert one row, answer."""
    AuditEntry.objects.create(
        action="bench.insert",
        object_type="bench",
        object_id=request.POST.get("email", "")[:64],
        data={},
    )
    return HttpResponse(status=204)


urlpatterns = [path("bench/insert/", insert_one), *product_urlpatterns]
