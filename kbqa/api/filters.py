"""List filters that refuse what they cannot read (400 naming the parameter) instead of ignoring
it: a client that misspells a value must not get the unfiltered list as if it had matched."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError

from ingestion.models import Collection, Document


class StrictBooleanField(forms.Field):
    """`true`/`false` or `1`/`0`, as the schema says; django-filter's own boolean field treats
    anything else (`yes`, `2`, an empty value) as no filter at all."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}
    default_error_messages = {"invalid": _("Use true or false (or 1 or 0).")}

    def to_python(self, value):
        if value is None:  # the parameter is absent
            return None
        if value not in self.VALUES:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return self.VALUES[value]


class StrictBooleanFilter(django_filters.BooleanFilter):
    """Not the REST framework flavour, whose widget turns unknown values into no filter."""

    field_class = StrictBooleanField


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """Compares in UTC: Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(datetime.UTC)
            except OverflowError:
                raise ValidationError({"created": ["Date out of range."]}) from None
        return super().filter(qs, value)


class DocumentFilter(filters.FilterSet):
    title = filters.CharFilter(lookup_expr="icontains", help_text="part of the title")
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Document
        fields = ["status", "collection", "title", "created_after", "created_before"]


class CollectionFilter(filters.FilterSet):
    everyone = StrictBooleanFilter(help_text="readable by every signed-in user")

    class Meta:
        model = Collection
        fields = ["everyone"]
