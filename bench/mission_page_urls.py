"""The product's URLs plus the baseline of bench/mission_page.py: the smallest page Django can
serve through the same middleware (sessions, CSRF, auth, referral) with no query and no
template."""

from django.http import HttpResponse
from django.urls import path

from rallypoint.urls import urlpatterns as product_urlpatterns


def minimal(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal), *product_urlpatterns]
