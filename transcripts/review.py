"""The admin's review queues: ingest conflicts (keep the editor's version, take the
file's text, or edit the statement) and speaker merges (undo). The operations are in
curation.py; an editor needs the statement or speaker rights, not rights of their own."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import curation
from .history import word_diff
from .models import IngestConflict, SpeakerMerge

Resolution = IngestConflict.Resolution


class ReadOnlyQueue(admin.ModelAdmin):
    """Rows written by ingest or by curation, never by a form; the rights are those on
    `rights_on` (an editor who may change statements may resolve their conflicts)."""

    rights_on = ""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the change page is read-only; the queue's actions have their own right

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(f"transcripts.view_{self.rights_on}") or self.has_act_permission(request)

    def has_act_permission(self, request):
        return request.user.has_perm(f"transcripts.change_{self.rights_on}")

    def _act(self, request, items, operation, done_message=None):
        """Run `operation` on each item; a refusal is an error message, the rest counted."""
        done = 0
        for item in items:
            try:
                operation(item)
            except curation.CurationError as refused:
                self.message_user(request, str(refused), messages.ERROR)
            else:
                done += 1
        if done and done_message:
            self.message_user(request, done_message(done), messages.SUCCESS)


class OpenFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", gettext_lazy("open")), ("resolved", gettext_lazy("resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolution=Resolution.OPEN)
        if self.value() == "resolved":
            return queryset.exclude(resolution=Resolution.OPEN)
        return queryset


@admin.register(IngestConflict)
class IngestConflictAdmin(ReadOnlyQueue):
    rights_on = "utterance"
    list_display = ("sid", "label", "meeting_title", "created_at", "state", "resolved_by")
    list_filter = (OpenFilter, "resolution")
    list_select_related = ("meeting", "resolved_by")
    search_fields = ("sid", "label", "meeting__title")
    ordering = ("resolution", "-created_at")  # open ("") first
    actions = ["keep", "take"]

    @admin.display(description=gettext_lazy("meeting"), ordering="meeting__date")
    def meeting_title(self, conflict):
        return Truncator(conflict.meeting.title).chars(60)

    @admin.display(description=gettext_lazy("state"), ordering="resolution")
    def state(self, conflict):
        return conflict.get_resolution_display()

    def changelist_view(self, request, extra_context=None):
        count = IngestConflict.objects.filter(resolution=Resolution.OPEN).count()
        title = ngettext("Ingest conflicts: %(count)d open", "Ingest conflicts: %(count)d open", count) % {
            "count": count
        }
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def _resolve(self, request, conflicts, resolution):
        self._act(
            request,
            conflicts,
            lambda conflict: curation.resolve_conflict(request.user, conflict, resolution),
            lambda n: ngettext("%(count)d conflict resolved.", "%(count)d conflicts resolved.", n) % {"count": n},
        )

    @admin.action(description=gettext_lazy("Keep the editor's version"), permissions=["act"])
    def keep(self, request, queryset):
        self._resolve(request, queryset, Resolution.KEPT)

    @admin.action(description=gettext_lazy("Take the file's text"), permissions=["act"])
    def take(self, request, queryset):
        self._resolve(request, queryset, Resolution.TAKEN)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Both versions side by side with their diff, and the three ways out."""
        conflict = self.get_object(request, unquote(object_id))
        if conflict is None:
            raise Http404
        if not self.has_view_permission(request, conflict):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_act_permission(request):
                raise PermissionDenied
            resolution = request.POST.get("resolution")
            if resolution in (Resolution.KEPT, Resolution.TAKEN):
                self._resolve(request, [conflict], resolution)
            return redirect(reverse("admin:transcripts_ingestconflict_changelist") + "?state=open")
        statement = conflict.statement
        context = {
            **self.admin_site.each_context(request),
            "title": _("Conflict: %(conflict)s") % {"conflict": conflict},
            "opts": self.opts,
            "conflict": conflict,
            "diff": word_diff(conflict.editor_text, conflict.file_text) if conflict.file_text else "",
            "statement_url": reverse("admin:transcripts_utterance_change", args=[statement.pk]) if statement else "",
            "can_resolve": self.has_act_permission(request) and not conflict.resolution,
        }
        return TemplateResponse(request, "admin/transcripts/conflict.html", context)


@admin.register(SpeakerMerge)
class SpeakerMergeAdmin(ReadOnlyQueue):
    rights_on = "speaker"
    list_display = ("merged_name", "merged_slug", "target", "statements", "merged_by", "merged_at", "undone_at")
    list_filter = (("undone_at", admin.EmptyFieldListFilter),)
    list_select_related = ("target", "merged_by")
    actions = ["undo"]

    @admin.display(description=gettext_lazy("merged speaker"))
    def merged_name(self, merge):
        return merge.merged.get("name", "")

    @admin.display(description=gettext_lazy("its address"))
    def merged_slug(self, merge):
        return merge.merged.get("slug", "")

    @admin.display(description=gettext_lazy("statements"))
    def statements(self, merge):
        return len(merge.statement_ids)

    @admin.action(description=gettext_lazy("Undo the selected merges"), permissions=["act"])
    def undo(self, request, queryset):
        def undo_one(merge):
            undone = curation.undo_merge(request.user, merge)
            message = _("%(name)s is back with %(count)d statements and %(aliases)d aliases.") % {
                "name": undone.speaker.name,
                "count": undone.statements,
                "aliases": undone.aliases,
            }
            if undone.skipped:
                message += " " + _("%(skipped)d statements were reassigned since and stay where they are.") % {
                    "skipped": undone.skipped
                }
            self.message_user(request, message, messages.SUCCESS)

        self._act(request, queryset, undo_one)
