from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rallypoint.accounts.models import Role
from rallypoint.accounts.services import account_link_person
from rallypoint.people.normalize import clean_email


class Command(BaseCommand):
    help = "Create (or promote) an organizer account without prompts."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--admin", action="store_true", help="Give the admin role instead.")

    def handle(self, *args, email, password, admin, **options):
        try:
            email = clean_email(email)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages))
        User = get_user_model()
        role = Role.ADMIN if admin else Role.ORGANIZER
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = User.objects.create_user(email, password, role=role)
        else:
            user.role = role
            user.set_password(password)
            user.save()
        account_link_person(user=user)
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {role} account {email}"))
