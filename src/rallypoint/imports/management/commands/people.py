"""`rallypoint people import FILE.csv` and `rallypoint people export` — the same import and
export as the organizer pages, for large files and scripts."""

import argparse
import csv
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from rallypoint.imports.export import change_rows, export_rows, skipped_rows
from rallypoint.imports.mapping import FIELDS_BY_CODE
from rallypoint.imports.models import ImportJob, RowOutcome
from rallypoint.imports.queries import import_job_changes
from rallypoint.imports.services import (
    BATCH_SIZE,
    import_job_create,
    import_job_resume,
    import_job_run,
    import_job_start,
)
from rallypoint.segments.models import Segment
from rallypoint.segments.queries import segment_people


def _shown(person) -> str:
    """A person's name for the terminal: names come from files, so no control characters
    (an escape sequence in a name must not drive the organizer's terminal)."""
    if person is None:
        return "(deleted)"
    return "".join(c if c.isprintable() else "?" for c in str(person))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of rows (1 or more), got {text!r}"
        )
    return value


class Command(BaseCommand):
    help = "Import people from a CSV file, or export people (everyone or a segment) as CSV."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser(
            "import", help="Import a CSV file (matched by email; rows without one by phone)."
        )
        imp.add_argument("file", nargs="?", type=Path, help="The CSV file.")
        imp.add_argument(
            "--tag", action="append", default=[], help="Tag everyone imported (repeatable)."
        )
        imp.add_argument("--source", default="", help="Source label for new people.")
        imp.add_argument(
            "--fill-blanks-only",
            action="store_true",
            help="Only fill blank fields of people we already have; never change known values.",
        )
        imp.add_argument(
            "--update-by-phone",
            action="store_true",
            help="A row with a new email and a phone number someone already has updates that"
            " person (default: it adds a new person, reported as a possible duplicate).",
        )
        imp.add_argument(
            "--map",
            dest="overrides",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="Override the automatic column choice, e.g. --map 'Cell=phone' --map Notes=",
        )
        imp.add_argument(
            "--errors", type=Path, help="Where to write skipped rows (default FILE.skipped.csv)."
        )
        imp.add_argument(
            "--changes",
            type=Path,
            help="Where to write the people created or updated and the possible duplicates"
            " (default FILE.changes.csv).",
        )
        imp.add_argument("--resume", type=int, metavar="JOB_ID", help="Resume a stopped import.")
        imp.add_argument(
            "--batch-size",
            type=_positive_int,
            default=BATCH_SIZE,
            help=f"Rows per transaction (default: {BATCH_SIZE:,}).",
        )
        exp = sub.add_parser("export", help="Export people as CSV.")
        exp.add_argument("--segment", help="Slug of a segment (default: everyone).")
        exp.add_argument("-o", "--output", type=Path, help="Output file (default: standard out).")

    def handle(self, *args, action, **options):
        if action == "import":
            self._import(**options)
        else:
            self._export(**options)

    def _import(
        self,
        *,
        file,
        tag,
        source,
        fill_blanks_only,
        update_by_phone,
        overrides,
        errors,
        changes,
        resume,
        batch_size,
        **_,
    ):
        if resume:
            job = ImportJob.objects.filter(pk=resume).first()
            if job is None:
                raise CommandError(f"There is no import #{resume}.")
            try:
                job = import_job_resume(job=job, actor=None, enqueue=False)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages))
        else:
            if file is None or not file.is_file():
                raise CommandError(f"No such file: {file}")
            try:
                job = import_job_create(file=file, actor=None)
                mapping = self._mapping(job, overrides)
                job = import_job_start(
                    job=job,
                    mapping=mapping,
                    tags=tag,
                    source=source or file.name,
                    fill_blanks_only=fill_blanks_only,
                    update_by_phone=update_by_phone,
                    enqueue=False,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages))
            self.stderr.write(f"Import #{job.pk}: " + self._describe(job))
        # No tqdm monitor thread: a single-threaded process may hand validation to a forked one.
        tqdm.monitor_interval = 0
        bar = tqdm(
            total=job.total_rows or None,
            initial=job.rows_done,
            unit=" rows",
            file=sys.stderr,
            dynamic_ncols=True,
        )

        def progress(current):
            bar.update(current.rows_done - bar.n)
            bar.set_postfix(
                new=current.created_count,
                updated=current.updated_count,
                duplicates=current.duplicate_count,
                skipped=current.skipped_count,
                refresh=False,
            )

        try:
            job = import_job_run(job_id=job.pk, batch_size=batch_size, on_progress=progress)
        except Exception as exc:
            bar.close()
            raise CommandError(
                f"Import #{job.pk} stopped: {exc}. Saved rows stay saved; carry on with "
                f"`rallypoint people import --resume {job.pk}`."
            )
        bar.close()
        self.stdout.write(
            f"Created {job.created_count}, updated {job.updated_count},"
            f" unchanged {job.unchanged_count}, possible duplicates {job.duplicate_count},"
            f" skipped {job.skipped_count} (of {job.rows_done} rows)."
        )
        self._list_changes(job)
        stem = Path(f"{file or job.original_name}")
        if job.created_count or job.updated_count or job.duplicate_count:
            target = changes or stem.with_suffix(".changes.csv")
            self._write_csv(target, change_rows(job))
            self.stdout.write(f"People created or updated and possible duplicates: {target}")
        if job.skipped_count:
            target = errors or stem.with_suffix(".skipped.csv")
            self._write_csv(target, skipped_rows(job))
            self.stdout.write(f"Skipped rows, with line numbers and reasons: {target}")

    LISTED = 10

    def _list_changes(self, job):
        """The first people updated and possible duplicates, by line (all are in the CSV)."""
        for title, count, changes in (
            ("Updated", job.updated_count, import_job_changes(job, outcome=RowOutcome.UPDATED)),
            ("Possible duplicates", job.duplicate_count, import_job_changes(job, duplicates=True)),
        ):
            if not count:
                continue
            shown = f" (the first {self.LISTED})" if count > self.LISTED else ""
            self.stdout.write(f"{title}{shown}:")
            for change in changes[: self.LISTED]:
                line = f"  line {change.line}: #{change.person_id} {_shown(change.person)}"
                if change.duplicate_of_id:
                    line += f" — phone number already on #{change.duplicate_of_id}"
                    line += f" {_shown(change.duplicate_of)}"
                self.stdout.write(line)

    def _write_csv(self, target, rows):
        with open(target, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for row in rows:
                writer.writerow(row)

    def _mapping(self, job, overrides):
        mapping = dict(job.mapping)
        by_header = {h.strip().lower(): str(i) for i, h in enumerate(job.headers)}
        for item in overrides:
            column, _, code = item.partition("=")
            index = by_header.get(column.strip().lower())
            if index is None:
                raise CommandError(f"No column named {column!r} (columns: {job.headers}).")
            if code and code not in FIELDS_BY_CODE:
                raise CommandError(f"Unknown field {code!r}; one of: {', '.join(FIELDS_BY_CODE)}.")
            mapping[index] = code
        return mapping

    def _describe(self, job):
        chosen = ", ".join(
            f"{job.headers[int(i)]} → {FIELDS_BY_CODE[c].label}" for i, c in job.mapping.items()
        )
        ignored = [h for i, h in enumerate(job.headers) if str(i) not in job.mapping]
        text = f"{job.encoding}, '{job.delimiter}'-separated. Columns: {chosen}."
        if ignored:
            text += f" Not imported: {', '.join(ignored)} (use --map 'Column=custom' to keep)."
        return text + "\n"

    def _export(self, *, segment, output, **_):
        people = None
        if segment:
            found = Segment.objects.filter(slug=segment).first()
            if found is None:
                slugs = ", ".join(Segment.objects.values_list("slug", flat=True)[:20])
                raise CommandError(f"No segment {segment!r}. Segments: {slugs or '(none)'}")
            people = segment_people(found)
        handle = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            writer = csv.writer(handle)
            count = -1
            for row in export_rows(people):
                writer.writerow(row)
                count += 1
        finally:
            if output:
                handle.close()
        if output:
            self.stderr.write(f"Exported {count} people to {output}.")
