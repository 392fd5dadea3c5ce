"""Validation of the search page's parameters: every bad value is a form error."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Meeting, Speaker
from .engine import SORTS, SearchRequest
from .syntax import MAX_QUERY_CHARS, QueryError, clean_text, parse_query


class SpeakerSlugsField(forms.MultipleChoiceField):
    """Speaker slugs, checked against the database in one query by the form."""

    def valid_value(self, value):
        return True


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,120}")


class CleanCharField(forms.CharField):
    """Text with NUL and other control characters stripped before validation
    (Django's CharField would reject a NUL instead)."""

    def to_python(self, value):
        return clean_text(super().to_python(str(value).replace("\x00", "") if value else value))


class SearchForm(forms.Form):
    q = CleanCharField(label=_("Search"), required=False, strip=True)
    speaker = SpeakerSlugsField(label=_("Speaker"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("any kind")), *Meeting.Kind.choices])
    location = CleanCharField(label=_("Location"), required=False, max_length=255)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[("relevance", _("relevance")), ("newest", _("newest first")), ("oldest", _("oldest first"))],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.speakers: list[Speaker] = []  # the speakers asked for, once the form is valid
        # "from" and "to" are Python keywords, so these two are added by name.
        self.fields["from"] = forms.DateField(label=_("From"), required=False, input_formats=["%Y-%m-%d"])
        self.fields["to"] = forms.DateField(label=_("To"), required=False, input_formats=["%Y-%m-%d"])
        self.order_fields(["q", "speaker", "from", "to", "kind", "location", "sort", "page"])

    def clean_q(self):
        text = self.cleaned_data["q"]
        if len(text) > MAX_QUERY_CHARS:
            raise forms.ValidationError(
                _("The query is %(length)d characters long; at most %(limit)d are allowed."),
                params={"length": len(text), "limit": MAX_QUERY_CHARS},
            )
        try:
            parse_query(text)
        except QueryError as exc:
            raise forms.ValidationError(str(exc)) from None
        return text

    def clean_speaker(self):
        # The picker's «any speaker» sends an empty value.
        slugs = list(dict.fromkeys(s for s in self.cleaned_data["speaker"] if s))[:20]
        valid = [s for s in slugs if SLUG.fullmatch(s)]  # no NUL or other junk reaches the query
        found = Speaker.objects.only("id", "slug", "name").in_bulk(valid, field_name="slug")
        unknown = [s for s in slugs if s not in found]
        if unknown:
            raise forms.ValidationError(_("Unknown speaker: %(slugs)s"), params={"slugs": ", ".join(unknown)})
        self.speakers = [found[s] for s in slugs]
        return [found[s].id for s in slugs]

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            self.add_error("to", _("The end date is before the start date."))
        return data

    def search_request(self) -> SearchRequest:
        data = self.cleaned_data
        return SearchRequest(
            q=data["q"],
            speakers=tuple(data["speaker"]),
            date_from=data["from"],
            date_to=data["to"],
            kind=data["kind"],
            location=data["location"],
            sort=data["sort"] if data["sort"] in SORTS else "relevance",
            page=data["page"] or 1,
        )
