from django.urls import path

from . import people_bulk, views

# The front page and the overview kept their names from when they lived in core
# ("core:home", "core:organize"): templates, settings and links use them.
app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("organize/", views.organize, name="organize"),
    path("organize/people/bulk/", people_bulk.people_bulk, name="people_bulk"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", views.favicon, name="favicon"),
]
