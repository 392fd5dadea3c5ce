from django.urls import include, path, register_converter

from . import data, feeds, statements, views
from .api.pages import api_docs
from .models import SID_ALPHABET, SID_LENGTH
from .search.views import search_page


class TwoDigits:
    """Months and days as 01–31 in addresses; 1–31 are accepted too."""

    regex = "[0-9]{1,2}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):02d}"


register_converter(TwoDigits, "dd")


class Year:
    regex = "[0-9]{1,4}"  # longer numbers are no year of this archive (and overflow dates)

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(Year, "yyyy")


class Sid:
    """A statement's identifier (models.new_sid): anything else is no address."""

    regex = f"[{SID_ALPHABET}]{{{SID_LENGTH}}}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(Sid, "sid")

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", search_page, name="search"),
    path("meetings/", views.archive_index, name="archive"),
    path("meetings/<yyyy:year>/", views.archive_year, name="archive-year"),
    path("meetings/<yyyy:year>/<dd:month>/", views.archive_month, name="archive-month"),
    path("meetings/<yyyy:year>/<dd:month>/<dd:day>/", views.archive_day, name="archive-day"),
    path("meeting/<slug:slug>/", views.meeting_detail, name="meeting"),
    path("meeting/<slug:slug>.txt", views.meeting_text, name="meeting-text"),
    path("meeting/<slug:slug>.json", views.meeting_json, name="meeting-json"),
    path("statement/<sid:sid>/", statements.statement_detail, name="statement"),
    path("statement/<sid:sid>/cite/", statements.statement_cite, name="statement-cite"),
    path("speakers/", views.speaker_list, name="speakers"),
    path("speakers/<slug:slug>/", views.speaker_detail, name="speaker"),
    path("api/", api_docs, name="api-docs"),  # the API itself is /api/v1/, outside the language prefix
    path("data/", data.data_page, name="data"),
    path("data/<str:name>", data.data_file, name="data-file"),
    path("feed/", include(feeds.urlpatterns)),  # Atom and RSS: meetings, a speaker, a search
]
