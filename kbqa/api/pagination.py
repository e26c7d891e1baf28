from __future__ import annotations

import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

WHOLE_NUMBER = re.compile(r"[0-9]+")


class Pagination(PageNumberPagination):
    """`?page=N&page_size=M`: `{"count", "next", "previous", "results"}`. `page_size` is a
    positive whole number (20 by default); above 100 it is cut to 100. A bad `page_size` is a 400
    (REST framework would quietly use the default); a page that does not exist is a 404."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        """The `page` as given: REST framework reads an empty one as 1 and `last` as the last;
        the schema says a whole number, so both are pages that do not exist (404), like `abc`."""
        return request.query_params.get(self.page_query_param, 1)

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        digits = raw.lstrip("0")
        if not WHOLE_NUMBER.fullmatch(raw) or not digits:
            raise ValidationError(
                {self.page_size_query_param: [_("A positive whole number, please.")]}
            )
        # Compared as text first: int() refuses numbers of thousands of digits.
        return self.max_page_size if len(digits) > 3 else min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page ({self.page_size} by default; more than "
                    f"{self.max_page_size} is cut to {self.max_page_size})."
                )
        return parameters
