"""One statement's own page (/statement/<sid>/), its citations, and what its address
answers once the statement has left the archive: a 301 to the statement it was merged
into, or a 410 that says what happened."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator

from .citations import LANGS, WORDS, Citation, CitedStatement, citations, cite
from .http_cache import moved_permanently, query_params
from .models import Meeting, RetiredStatement, Utterance, meeting_page_of

HOUSE = "house"  # the style a meeting page shows inline; the others load on demand (meeting.js)
MERGES_FOLLOWED = 10  # merged into one that was merged again…: the chain is followed this far


def citation_language() -> str:
    language = translation.get_language()
    return language if language in LANGS else settings.LANGUAGE_CODE


def cited(request, u: Utterance) -> CitedStatement:
    """What a citation of the statement names; reads u.meeting and u.speaker. The access
    date is today in Moscow: the HTTP cache keys pages on it (http_cache.validators)."""
    meeting = u.meeting
    return CitedStatement(
        speaker=u.speaker.name if u.speaker else u.label,
        role=u.speaker.role if u.speaker else "",
        title=meeting.title,
        date=meeting.date,
        place=meeting.location,
        source_url=meeting.source_url,
        permalink=request.build_absolute_uri(u.get_absolute_url()),
        sid=u.sid,
        accessed=timezone.localdate(),
    )


def house_citation(request, u: Utterance) -> Citation:
    """The archive's own style alone: a meeting page shows it for each statement."""
    lang = citation_language()
    return Citation(HOUSE, WORDS["label"][LANGS.index(lang)], cite(cited(request, u), HOUSE, lang))


def _statement_or_none(sid: str) -> Utterance | None:
    """The statement, if it is in the archive; a 404 if its meeting is not published."""
    u = Utterance.objects.select_related("meeting", "speaker", "section").filter(sid=sid).first()
    if u is not None and not u.meeting.is_published:
        raise Http404("No such statement")
    return u


def _turn(queryset):
    return queryset.select_related("speaker").first()


def _addresses(request, sid: str) -> dict[str, str]:
    """The statement page's absolute address in each language."""
    addresses = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            addresses[code] = request.build_absolute_uri(reverse("statement", kwargs={"sid": sid}))
    return addresses


@query_params()
def statement_detail(request, sid):
    u = _statement_or_none(sid)
    if u is None:
        return _retired(request, sid)
    meeting = u.meeting
    addresses = _addresses(request, sid)
    turns = meeting.utterances.order_by("seq")
    context = {
        "u": u,
        "meeting": meeting,
        "who": u.speaker.name if u.speaker else u.label,
        "summary": Truncator(" ".join(u.text.split())).chars(200),
        "previous": _turn(turns.filter(seq__lt=u.seq).reverse()),
        "next": _turn(turns.filter(seq__gt=u.seq)),
        "canonical": addresses[citation_language()],
        "alternates": [*addresses.items(), ("x-default", addresses[settings.LANGUAGE_CODE])],
        "citations": citations(cited(request, u), citation_language()),
    }
    return render(request, "transcripts/statement.html", context)


@query_params()
def statement_cite(request, sid):
    """The styles a meeting page does not show inline, as an HTML fragment for meeting.js."""
    u = _statement_or_none(sid)
    if u is None:
        raise Http404("No such statement")
    others = [c for c in citations(cited(request, u), citation_language()) if c.style != HOUSE]
    response = render(request, "transcripts/partials/citations.html", {"citations": others, "prefix": f"cite-{sid}-"})
    response["X-Robots-Tag"] = "noindex"
    return response


def _live_successor(retired: RetiredStatement) -> str | None:
    """The published statement a merged one became, following merges of merges."""
    for _ in range(MERGES_FOLLOWED):
        if retired.reason != RetiredStatement.Reason.MERGED or not retired.successor:
            return None
        if Utterance.objects.published().filter(sid=retired.successor).exists():
            return retired.successor
        retired = RetiredStatement.objects.filter(sid=retired.successor).first()
        if retired is None:
            return None
    return None


def _retired(request, sid: str):
    retired = RetiredStatement.objects.filter(sid=sid).first()
    if retired is None:
        raise Http404("No such statement")
    if successor := _live_successor(retired):
        return moved_permanently(reverse("statement", kwargs={"sid": successor}))
    meeting = Meeting.objects.filter(pk=retired.meeting_id).first() if retired.meeting_id else None
    if meeting is not None and not meeting.is_published:
        raise Http404("No such statement")  # a withdrawn meeting's statements are not shown, gone or not
    meeting_url = ""
    if meeting is not None:  # the part of the meeting page where it stood
        page = meeting_page_of(retired.seq) if retired.seq else 1
        meeting_url = meeting.get_absolute_url() + (f"?page={page}" if page > 1 else "")
    context = {"retired": retired, "meeting": meeting, "meeting_url": meeting_url}
    # A 410 is never stored nor answered with a 304: the HTTP cache keeps 200s only.
    return render(request, "transcripts/statement_gone.html", context, status=410)
