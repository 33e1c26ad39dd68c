"""`rallypoint apikey create --name N --scope read-write` (prints the key once),
`rallypoint apikey revoke NAME_OR_PREFIX`, `rallypoint apikey list`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rallypoint.api.models import Scope
from rallypoint.api.queries import apikeys_for_listing, apikeys_matching
from rallypoint.api.services import apikey_create, apikey_revoke


class Command(BaseCommand):
    help = "Create, revoke and list OSDI API keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key and print it (shown only once).")
        create.add_argument("--name", required=True, help="Who or what will use the key.")
        create.add_argument("--scope", choices=Scope.values, default=Scope.READ_ONLY)
        revoke = sub.add_parser("revoke", help="Revoke an active key by its name or prefix.")
        revoke.add_argument("name_or_prefix")
        sub.add_parser("list", help="List keys (never the keys themselves).")

    def handle(self, *args, action, **options):
        if action == "create":
            try:
                key, raw = apikey_create(name=options["name"], scope=options["scope"])
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages))
            self.stderr.write(f"Created {key.get_scope_display().lower()} key “{key.name}”.")
            self.stderr.write("Copy it now: it is not stored and cannot be shown again.")
            self.stdout.write(raw)
        elif action == "revoke":
            matches = list(apikeys_matching(options["name_or_prefix"]))
            if not matches:
                raise CommandError(
                    f"No active key is named or starts with {options['name_or_prefix']!r}."
                )
            if len(matches) > 1:
                names = ", ".join(f"{k.name} ({k.prefix})" for k in matches)
                raise CommandError(f"That matches several keys: {names}. Use a longer prefix.")
            key = apikey_revoke(key=matches[0])
            self.stdout.write(self.style.SUCCESS(f"Revoked “{key.name}” ({key.prefix}…)."))
        else:
            for key in apikeys_for_listing():
                state = "active" if key.is_active else f"revoked {key.revoked_at:%Y-%m-%d}"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                self.stdout.write(
                    f"{key.prefix}…  {key.scope:<10}  {state:<18}  last used {used:<16}  {key.name}"
                )
