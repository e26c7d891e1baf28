"""Content negotiation that refuses a `?format=` none of the view's renderers has (an empty one
included) with a 400 naming it. REST framework answers an unknown one 404, as if the address did
not exist, and ignores an empty one, though the schema lists the formats as an enum."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        parameter = self.settings.URL_FORMAT_OVERRIDE
        format = format_suffix or request.query_params.get(parameter)
        if format is not None and format not in {renderer.format for renderer in renderers}:
            known = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
            message = _("Unknown format; this address answers in: %s.") % known
            raise ValidationError({parameter: [message]})
        return super().select_renderer(request, renderers, format_suffix)
