"""`manage.py create_api_token USERNAME [--name N] [--scope ask|manage] [--days D]`: create a named
API token and print its key, once (only its hash is stored)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kbqa.api.models import ApiToken
from kbqa.api.tokens import TokenError, token_create


class Command(BaseCommand):
    help = (
        "Create a named API token for USERNAME and print its key (shown once), for the "
        "Authorization: Bearer <key> header."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for")
        parser.add_argument(
            "--scope",
            choices=ApiToken.Scope.values,
            default=ApiToken.Scope.ASK,
            help="ask: read, search and ask; manage: also upload and manage documents",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=settings.KBQA_API_TOKEN_DEFAULT_DAYS,
            help="days until it expires",
        )

    def handle(self, *args, username: str, name: str, scope: str, days: int, **options) -> None:
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}") from None
        try:
            token, key = token_create(user=user, name=name, scope=scope, days=days)
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            f"Token {token.name!r} ({token.scope}) for {username}, expires "
            f"{token.expires_at:%Y-%m-%d}. Store it now: it is not shown again."
        )
        self.stdout.write(key)
