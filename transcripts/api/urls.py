"""/api/v1/: outside the language prefix, one address per resource (addresses inside
answers are the Russian, unprefixed pages)."""

from django.urls import path

from ..urls import Sid  # noqa: F401  (registers the "sid" converter)
from . import views

urlpatterns = [
    path("", views.index, name="api-index"),
    path("meetings/", views.meetings, name="api-meetings"),
    path("meetings/<slug:slug>/", views.meeting, name="api-meeting"),
    path("speakers/", views.speakers, name="api-speakers"),
    path("speakers/<slug:slug>/", views.speaker, name="api-speaker"),
    path("speakers/<slug:slug>/statements/", views.speaker_statements, name="api-speaker-statements"),
    path("statements/<sid:sid>/", views.statement, name="api-statement"),
    path("search/", views.search, name="api-search"),
]
