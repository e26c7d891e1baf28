"""List filters that refuse what they cannot read (400 naming the parameter) instead of ignoring
it: a client that misspells a value, or whose value got lost on the way (`?created_after=`), must
not get the unfiltered list as if it had matched. django-filter's defaults suit HTML forms, which
send every input, filled or not; the API's parameters are typed by its schema."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError

from ingestion.models import Collection, Document


class NoEmptyValuesForm(forms.Form):
    """A parameter given empty is refused; django-filter reads it as no filter."""

    def clean(self):
        for name in self.fields:
            if self.data.get(name) == "":
                self.add_error(name, _("Give a value, or leave the parameter out."))
        return super().clean()


class StrictFilterSet(filters.FilterSet):
    class Meta:
        form = NoEmptyValuesForm


class StrictBooleanField(forms.Field):
    """`true`/`false` or `1`/`0`, as the schema says; django-filter's own boolean field treats
    anything else (`yes`, `2`) as no filter at all."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}
    default_error_messages = {"invalid": _("Use true or false (or 1 or 0).")}

    def to_python(self, value):
        if value in (None, ""):  # absent (an empty value is the form's to refuse)
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


class DocumentFilter(StrictFilterSet):
    title = filters.CharFilter(lookup_expr="icontains", help_text="part of the title")
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta(StrictFilterSet.Meta):
        model = Document
        fields = ["status", "collection", "title", "created_after", "created_before"]


class CollectionFilter(StrictFilterSet):
    everyone = StrictBooleanFilter(help_text="readable by every signed-in user")

    class Meta(StrictFilterSet.Meta):
        model = Collection
        fields = ["everyone"]
