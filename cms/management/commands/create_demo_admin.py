"""Create the demo administrator of a local installation and print its credentials.

The password is kept in ``var/demo-admin.txt``, readable by its owner only from the first byte.
Under production settings an existing account is never changed (no password reset, no
promotion): the command refuses instead.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.secret_files import write_private


class Command(BaseCommand):
    help = "Create (once) the demo administrator and print its credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@carillon.localhost")

    def handle(self, *args: object, **options: str) -> None:
        credentials = Path(settings.VAR_DIR) / "demo-admin.txt"
        username = options["username"]
        user_model = get_user_model()
        password = credentials.read_text().strip() if credentials.exists() else ""
        user = user_model.objects.filter(username=username).first()
        if user is not None and password and user.check_password(password):
            credentials.chmod(0o600)  # files written by earlier versions were readable by all
        else:
            if user is not None and settings.CARILLON_PRODUCTION:
                raise CommandError(
                    f"The user '{username}' exists: production settings leave it unchanged. "
                    "Choose another --username, or use createsuperuser and changepassword."
                )
            password = password or secrets.token_urlsafe(12)
            if user is None:
                user = user_model.objects.create_superuser(username, options["email"], password)
            else:
                user.set_password(password)
                user.is_superuser = user.is_staff = user.is_active = True
                user.save()
            write_private(credentials, password)
        self.stdout.write(f"Demo administrator: user '{username}', password '{password}'")
