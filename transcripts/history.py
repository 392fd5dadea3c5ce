"""Revisions: what django-pghistory's triggers recorded of each meeting, statement,
speaker and alias (migration 0013), who made each (an editor, or an ingest of a file,
from the event's context), field by field with word-level diffs; and the admin's
revisions page with its Restore button (curation.restore_revision writes it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import curation

# Bookkeeping that would only clutter a revision (hashes, keys, an alias's lookup form…).
HIDDEN = {"id", "sid", "created_at", "content_hash", "source_key", "source_hash", "language", "omitted_after"}
HIDDEN |= {"normalized"}

LABELS = {"insert": gettext_lazy("created"), "update": gettext_lazy("changed"), "delete": gettext_lazy("deleted")}
OPERATIONS = {
    "merge": gettext_lazy("merge of speakers"),
    "undo merge": gettext_lazy("merge undone"),
    "restore": gettext_lazy("restored from an earlier revision"),
    "publish": gettext_lazy("published"),
    "unpublish": gettext_lazy("unpublished"),
    "reassign label": gettext_lazy("label reassigned"),
    "conflict kept": gettext_lazy("conflict: editor's version kept"),
    "conflict taken": gettext_lazy("conflict: file's text taken"),
}
CONTEXT_WORDS = 20  # words kept at each end of a long run in a diff


@dataclass
class Change:
    name: str
    before: str
    after: str
    diff: str = ""  # safe HTML: <del>/<ins> inside an escaped text


@dataclass
class Revision:
    event: models.Model
    what: str  # "speaker alias «…»" where a page mixes objects
    label: str
    who: str
    operation: str
    changes: list[Change] = field(default_factory=list)
    restorable: bool = False


def event_model(model):
    return model.pgh_event_models["update"]  # one event model for insert, update and delete


def revisions(model, ids, current=None, what: str = "") -> list[Revision]:
    """The revisions of the objects `ids` of `model`, newest first. With `current`
    (the live object), revisions whose restorable content differs from it can be restored."""
    events = list(
        event_model(model).objects.filter(pgh_obj_id__in=ids).select_related("pgh_context").order_by("pgh_id")
    )
    tracked = {f.attname for f in event_model(model)._meta.concrete_fields}
    fields = [f for f in model._meta.concrete_fields if f.name not in HIDDEN and f.attname in tracked]
    shown = _Values(fields, events)
    people = _users(events)
    restorable = [model._meta.get_field(name).attname for name in curation.RESTORABLE.get(model, ())]
    previous: dict[int, models.Model] = {}
    result = []
    for event in events:
        before = previous.get(event.pgh_obj_id)
        previous[event.pgh_obj_id] = event
        changes = [] if event.pgh_label == "delete" else shown.changes(before, event)
        if event.pgh_label == "update" and not changes:
            continue  # only hidden bookkeeping changed
        metadata = event.pgh_context.metadata if event.pgh_context else {}
        result.append(
            Revision(
                event=event,
                what=what.format(getattr(event, "name", "")) if what else "",
                label=LABELS.get(event.pgh_label, event.pgh_label),
                who=who(metadata, people),
                operation=OPERATIONS.get(metadata.get("operation"), metadata.get("operation", "")),
                changes=changes,
                restorable=current is not None
                and any(getattr(current, name) != getattr(event, name) for name in restorable),
            )
        )
    return result[::-1]


def who(metadata: dict, people: dict) -> str:
    """ "ingest <file>" for an ingest's revisions, the editor's name for an editor's."""
    if metadata.get("ingest") or metadata.get("file"):
        return _("ingest %(file)s") % {"file": metadata.get("file", "")}
    if (user := metadata.get("user")) is not None:
        person = people.get(user)
        return (person.get_full_name() or person.get_username()) if person else _("user #%(id)s") % {"id": user}
    return "—"


def _users(events) -> dict:
    ids = {e.pgh_context.metadata.get("user") for e in events if e.pgh_context}
    return get_user_model().objects.in_bulk([i for i in ids if isinstance(i, int)])


class _Values:
    """Field values as an editor reads them: choices by name, related objects by name."""

    def __init__(self, fields, events):
        self.fields = fields
        self.related = {}
        for f in fields:
            if f.is_relation:
                ids = {getattr(e, f.attname) for e in events} - {None}
                self.related[f.attname] = f.related_model.objects.in_bulk(ids)

    def changes(self, before, after) -> list[Change]:
        result = []
        for f in self.fields:
            old = getattr(before, f.attname) if before is not None else None
            new = getattr(after, f.attname)
            if old == new or (before is None and new in (None, "", [], False)):
                continue
            change = Change(str(f.verbose_name), self.show(f, old), self.show(f, new))
            if isinstance(f, models.TextField) and old and new:
                change.diff = word_diff(old, new)
            result.append(change)
        return result

    def show(self, f, value) -> str:
        if value in (None, "", []):
            return "—"
        if f.is_relation:
            obj = self.related[f.attname].get(value)
            return str(obj) if obj is not None else f"#{value}"
        if f.choices:
            return str(dict(f.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(f, models.DateTimeField):
            return date_format(timezone.localtime(value), "DATETIME_FORMAT")
        if isinstance(f, models.DateField):
            return date_format(value)
        if isinstance(value, list):
            return ", ".join(map(str, value))
        return str(value)


_WORDS = re.compile(r"\S+\s*")  # a word with the spacing after it


def word_diff(before: str, after: str) -> str:
    """The two texts word by word (spacing aside): removed words in <del>, added in
    <ins>, long unchanged stretches shortened. Every piece of text is escaped; only the
    marks are HTML."""
    a, b = _WORDS.findall(before), _WORDS.findall(after)
    opcodes = SequenceMatcher(None, [w.rstrip() for w in a], [w.rstrip() for w in b], autojunk=False).get_opcodes()
    parts = []
    for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            parts.append(escape(_shortened(b[j1:j2], first=n == 0, last=n == len(opcodes) - 1)))
            continue
        removed, added = _shortened(a[i1:i2]), _shortened(b[j1:j2])
        if op == "replace":
            parts.append(format_html("<del>{}</del> <ins>{}</ins>{}", removed.rstrip(), added.rstrip(), _space(added)))
        elif op == "delete":
            parts.append(format_html("<del>{}</del>{}", removed.rstrip(), _space(removed)))
        else:
            parts.append(format_html("<ins>{}</ins>{}", added.rstrip(), _space(added)))
    return format_html_join("", "{}", ((part,) for part in parts))


def _space(text: str) -> str:
    return text[len(text.rstrip()) :]


def _shortened(words: list[str], first: bool = False, last: bool = False) -> str:
    """A long run of words as its ends (a whole speech replaced is not read word by
    word); an unchanged run at the start or end of the text keeps only its inner end."""
    keep = CONTEXT_WORDS
    if len(words) <= 2 * keep + 1:
        return "".join(words)
    head = [] if first else words[:keep]
    tail = [] if last else words[-keep:]
    return "".join(head) + "… " + "".join(tail)


class RevisionsAdmin(admin.ModelAdmin):
    """A ModelAdmin with a revisions page per object (`<id>/revisions/`, linked from the
    change form) and a Restore button on each earlier revision."""

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/revisions/", view(self.revisions_view), name=f"{info}_revisions"),
            path(
                "<path:object_id>/revisions/<int:pgh_id>/restore/",
                view(self.restore_view),
                name=f"{info}_restore",
            ),
            *super().get_urls(),
        ]

    def revisions_url(self, obj) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_revisions", args=[obj.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra = {"revisions_url": self.revisions_url(obj), **self.change_context(obj)} if obj else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def change_context(self, obj) -> dict:
        """More for the change form's template (admin/transcripts/change_form.html)."""
        return {}

    def object_revisions(self, obj) -> list[Revision]:
        """The revisions the page lists; a subclass adds its related objects'."""
        return revisions(self.model, [obj.pk], current=obj)

    def revisions_context(self, obj) -> dict:
        return {}

    def _object(self, request, object_id, permission):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not permission(request, obj):
            raise PermissionDenied
        return obj

    def revisions_view(self, request, object_id):
        obj = self._object(request, object_id, self.has_view_or_change_permission)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Revisions: %(object)s") % {"object": obj},
            "opts": self.opts,
            "object": obj,
            "revisions": self.object_revisions(obj),
            "can_restore": self.has_change_permission(request, obj),
            **self.revisions_context(obj),
        }
        return TemplateResponse(request, "admin/transcripts/revisions.html", context)

    def restore_view(self, request, object_id, pgh_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self._object(request, object_id, self.has_change_permission)
        event = event_model(self.model).objects.filter(pgh_id=pgh_id, pgh_obj_id=obj.pk).first()
        if event is None:
            raise Http404
        try:
            changed = curation.restore_revision(request.user, obj, event)
        except curation.CurationError as refused:
            self.message_user(request, str(refused), messages.ERROR)
        else:
            when = date_format(timezone.localtime(event.pgh_created_at), "DATETIME_FORMAT")
            if changed:
                names = ", ".join(str(self.opts.get_field(name).verbose_name) for name in changed)
                message = _("Restored the revision of %(when)s: %(fields)s.") % {"when": when, "fields": names}
                self.message_user(request, message, messages.SUCCESS)
            else:
                self.message_user(request, _("Nothing to restore: the revision is the same."), messages.WARNING)
        return redirect(self.revisions_url(obj))
