from .duplicates import duplicate_list, duplicate_merge
from .export import export_csv
from .jobs import (
    import_cancel,
    import_changes_csv,
    import_columns,
    import_detail,
    import_errors_csv,
    import_list,
    import_progress_partial,
    import_remove_file,
    import_resume,
    import_upload,
)

__all__ = [
    "duplicate_list",
    "duplicate_merge",
    "export_csv",
    "import_cancel",
    "import_changes_csv",
    "import_columns",
    "import_detail",
    "import_errors_csv",
    "import_list",
    "import_progress_partial",
    "import_remove_file",
    "import_resume",
    "import_upload",
]
