from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import views

# The front page and the overview kept their names from when they lived in core
# ("core:home", "core:organize"): templates, settings and links use them.
app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("organize/", views.organize, name="organize"),
    # Browsers ask for /favicon.ico whatever the page says.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("rallypoint/favicon.svg"), permanent=True),
        name="favicon",
    ),
]
