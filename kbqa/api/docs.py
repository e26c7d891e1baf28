"""The schema and its browsable pages, for signed-in users and tokens like the API they describe
(SERVE_PERMISSIONS). Apart from kbqa.api.schema, which REST framework imports while defining
every view (this module defines views)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.renderers import JSONRenderer


class SchemaView(SpectacularAPIView):
    """The schema (YAML unless JSON is asked for); a refusal is the usual JSON error body."""

    def handle_exception(self, exc):
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


# Pages for browsers: an anonymous visitor is sent to the login page.
swagger = login_required(SpectacularSwaggerView.as_view(url_name="api:schema"))
redoc = login_required(SpectacularRedocView.as_view(url_name="api:schema"))
