"""Per-client request rates, counted in the cache (Redis when REDIS_URL is set, so every web
process counts together). The client is the API token, else the signed-in user, else the address.
Rates come from settings.KBQA_API_RATES at request time."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from kbqa.api.models import ApiToken


class ClientRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        return settings.KBQA_API_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            client = f"token:{request.auth.key_hash[:24]}"
        elif request.user and request.user.is_authenticated:
            client = f"user:{request.user.pk}"
        else:
            client = f"ip:{self.get_ident(request)}"
        return f"throttle:{self.scope}:{client}"


class AskRateThrottle(ClientRateThrottle):
    """On top of the general rate: answers run the LLM for seconds each."""

    scope = "ask"
