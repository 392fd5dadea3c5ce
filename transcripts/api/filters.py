"""The meeting list's filters: the search form's own fields and checks (dates, kind,
place, speakers), without the query, the sort and the page."""

from django.db.models import Q

from ..models import Utterance
from ..search.forms import SearchForm

MEETING_FILTERS = ("from", "to", "kind", "location", "speaker")


class MeetingFilters(SearchForm):
    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        for name in set(self.fields) - set(MEETING_FILTERS):
            del self.fields[name]

    def condition(self) -> Q:
        """The filter on published meetings; a speaker filter keeps the meetings where
        any of the speakers has a published statement."""
        data = self.cleaned_data
        condition = Q()
        if data["from"]:
            condition &= Q(date__gte=data["from"])
        if data["to"]:
            condition &= Q(date__lte=data["to"])
        if data["kind"]:
            condition &= Q(kind=data["kind"])
        if data["location"]:
            condition &= Q(location=data["location"])
        if data["speaker"]:
            spoken = Utterance.objects.published().filter(speaker_id__in=data["speaker"]).values("meeting_id")
            condition &= Q(id__in=spoken)
        return condition
