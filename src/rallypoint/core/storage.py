from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Cache-busting, compressed static files once `collectstatic` has run (make run does);
    before that (a bare `runserver`), files are linked by their plain names and served from
    the apps' static folders."""

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name
