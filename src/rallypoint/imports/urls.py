from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("upload/", views.import_upload, name="upload"),
    path("export/", views.export_csv, name="export"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("duplicates/merge/", views.duplicate_merge, name="duplicates_merge"),
    path("<uuid:uuid>/", views.import_detail, name="detail"),
    path("<uuid:uuid>/columns/", views.import_columns, name="columns"),
    path("<uuid:uuid>/progress/", views.import_progress_partial, name="progress"),
    path("<uuid:uuid>/skipped-rows.csv", views.import_errors_csv, name="errors_csv"),
    path("<uuid:uuid>/changes.csv", views.import_changes_csv, name="changes_csv"),
    path("<uuid:uuid>/cancel/", views.import_cancel, name="cancel"),
    path("<uuid:uuid>/resume/", views.import_resume, name="resume"),
    path("<uuid:uuid>/remove-file/", views.import_remove_file, name="remove_file"),
]
