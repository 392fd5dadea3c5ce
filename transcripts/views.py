"""Public pages. Only published meetings are ever shown."""

from django.core.paginator import Paginator
from django.db.models import Count, F
from django.shortcuts import get_object_or_404, render

from .models import Meeting


def published_meetings():
    return Meeting.objects.filter(is_published=True)


def home(request):
    # GROUP BY queries ignore Meta.ordering, so order explicitly (undated times last).
    meetings = published_meetings().annotate(utterance_count=Count("utterances"))
    meetings = meetings.order_by("-date", F("start").desc(nulls_last=True), "-id")
    page = Paginator(meetings, 50).get_page(request.GET.get("page"))
    return render(request, "transcripts/home.html", {"page": page})


def meeting_detail(request, slug):
    meeting = get_object_or_404(published_meetings(), slug=slug)
    utterances = meeting.utterances.select_related("speaker", "section").order_by("seq")
    omitted_after = set(meeting.omitted_after)
    return render(
        request,
        "transcripts/meeting.html",
        {
            "meeting": meeting,
            "utterances": utterances,
            "omitted_after": omitted_after,
            "lead_omitted": 0 in omitted_after,
        },
    )
