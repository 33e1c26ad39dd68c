from django.urls import path

from . import views

# The front page and the overview kept their names from when they lived in core
# ("core:home", "core:organize"): templates, settings and links use them.
app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("organize/", views.organize, name="organize"),
]
