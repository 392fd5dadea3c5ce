"""The editors' tool: curate meetings, speakers and labels in Django's admin.

The rules (what may change, how it is remembered so that no later ingest undoes it,
merges and label reassignment, restores, conflicts) are in curation.py; this module is
the admin's face. Every change lands in Django's admin log (each object's *History*) and
in the pghistory revisions (each object's *Revisions* page, history.py).
"""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

from . import curation, participants, review  # noqa: F401 (review registers the conflict queue and the merges)
from .curation import CURATABLE
from .dates import date_problem
from .history import RevisionsAdmin, event_model, revisions
from .models import IngestConflict, Meeting, Speaker, SpeakerAlias, Utterance, normalize_name

# The archive's name instead of the stock «Администрирование Django», in the editor's
# language (lazy: translated per request). templates/admin/login.html makes it the login's <h1>.
admin.site.site_header = _("Russia–Kazakhstan statements archive")
admin.site.site_title = _("kzarchive administration")
admin.site.index_title = _("Curation of the archive")

# The admin log stores changed fields' labels untranslated and capitalised, and
# translates them when it shows a history: these are those labels, for makemessages.
HISTORY_LABELS = [
    gettext_noop("Title"),
    gettext_noop("Kind"),
    gettext_noop("Location"),
    gettext_noop("Start"),
    gettext_noop("Date"),
    gettext_noop("Lead"),
    gettext_noop("Source URL"),
    gettext_noop("Published"),
    gettext_noop("Text"),
    gettext_noop("Speaker"),
    gettext_noop("Remark"),
    gettext_noop("Canonical name"),
    gettext_noop("Short label"),
    gettext_noop("Role"),
    gettext_noop("Country"),
    gettext_noop("Needs review"),
]


class LineEndsField(forms.CharField):
    """Browsers send textarea text with CRLF; stored texts use LF (paragraphs are
    split on blank lines). Normalised before Django decides what changed."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


TEXT_FIELDS = {models.TextField: {"form_class": LineEndsField}}


class UtteranceInline(admin.StackedInline):
    """Statements come from the sources: editors fix their text and speaker; they
    do not add, remove or reorder them (ingest owns the order)."""

    model = Utterance
    fields = ("seq", "speaker", "label", "remark", "text", "text_curated", "speaker_curated")
    readonly_fields = ("seq", "label", "remark", "text_curated", "speaker_curated")
    autocomplete_fields = ("speaker",)
    formfield_overrides = TEXT_FIELDS
    ordering = ("seq",)
    extra = 0
    can_delete = False
    show_change_link = True  # the statement's own page, with its revisions

    def has_add_permission(self, request, obj=None):
        return False


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = Meeting.objects.dates("date", "year", order="DESC")
        return [(d.year, d.year) for d in years]

    def queryset(self, request, queryset):
        return queryset.filter(date__year=self.value()) if self.value() else queryset


@admin.register(Meeting)
class MeetingAdmin(RevisionsAdmin):
    list_display = ("title", "date", "kind", "location", "utterance_count", "is_published")
    list_filter = ("kind", YearFilter, "is_published", "title_derived")
    search_fields = ("title", "lead")
    date_hierarchy = "date"
    fields = (*CURATABLE, "is_published", "slug", "source_file", "layout", "curated_fields", "updated_at")
    readonly_fields = ("slug", "source_file", "layout", "curated_fields", "updated_at")
    inlines = [UtteranceInline]
    actions = ["publish", "unpublish"]
    # A bare "kremlin.ru/…" is https; texts keep LF line ends.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}, **TEXT_FIELDS}

    def has_add_permission(self, request):
        return False  # meetings come from ingest, which gives them their slug and source

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.clean = _check_start_matches_date(form.clean)
        return form

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(utterance_count=Count("utterances"))

    @admin.display(description=_("statements"), ordering="utterance_count")
    def utterance_count(self, meeting):
        return meeting.utterance_count

    def save_model(self, request, obj, form, change):
        if change:
            curation.mark_meeting_edits(obj, form.changed_data)
        super().save_model(request, obj, form, change)
        if {"title", "lead"} & set(form.changed_data):
            participants.refresh_named_people([obj])

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            curation.mark_statement_edits(inline_form.instance, inline_form.changed_data)
        super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            if "text" in inline_form.changed_data:
                curation.resolve_edited(request.user, inline_form.instance)

    def revisions_context(self, meeting):
        """The meeting's statements that changed after ingest added them, with links."""
        changed = (
            event_model(Utterance)
            .objects.filter(meeting_id=meeting.pk)
            .values("pgh_obj_id")
            .annotate(n=Count("pgh_id"))
            .filter(n__gt=1)
        )
        counts = {row["pgh_obj_id"]: row["n"] - 1 for row in changed}
        statements = meeting.utterances.filter(id__in=counts).order_by("seq")
        return {"statements": [(s, counts[s.id]) for s in statements]}

    def _set_published(self, request, queryset, published: bool):
        count = curation.set_published(request.user, queryset, published)
        message = (
            ngettext("%d meeting published.", "%d meetings published.", count)
            if published
            else ngettext("%d meeting unpublished.", "%d meetings unpublished.", count)
        )
        self.message_user(request, message % count, messages.SUCCESS)

    @admin.action(description=_("Publish the selected meetings"), permissions=["change"])
    def publish(self, request, queryset):
        self._set_published(request, queryset, True)

    @admin.action(description=_("Unpublish the selected meetings"), permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, False)


def _check_start_matches_date(clean):
    def checked(form):
        data = clean(form)
        start, date = data.get("start"), data.get("date")
        if date and (problem := date_problem(date)):
            form.add_error("date", _("This date is outside the archive: %(reason)s.") % {"reason": problem})
        elif start and date and timezone.localtime(start).date() != date:
            form.add_error("start", _("The start time is on another day than the meeting's date."))
        return data

    return checked


class AliasForm(forms.ModelForm):
    def clean_name(self):
        name = self.cleaned_data["name"]
        taken = SpeakerAlias.objects.filter(normalized=normalize_name(name)).exclude(pk=self.instance.pk).first()
        if taken:
            raise forms.ValidationError(_("This alias already belongs to %(speaker)s.") % {"speaker": taken.speaker})
        return name


class AliasInline(admin.TabularInline):
    model = SpeakerAlias
    form = AliasForm
    fields = ("name",)
    extra = 1


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(queryset=Speaker.objects.none(), label=_("Merge into"))


@admin.register(Speaker)
class SpeakerAdmin(RevisionsAdmin):
    list_display = ("name", "name_latin", "short_label", "role", "country", "kind", "needs_review", "utterance_count")
    list_filter = ("needs_review", "kind", "country")
    search_fields = ("name", "name_latin", "short_label", "aliases__name")
    fields = ("name", "name_latin", "latin_aliases", "short_label", "role", "country", "slug", "kind", "needs_review")
    inlines = [AliasInline]
    actions = ["merge_into"]
    change_list_template = "admin/transcripts/speaker_change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(utterance_count=Count("utterances"))

    @admin.display(description=_("statements"), ordering="utterance_count")
    def utterance_count(self, speaker):
        return speaker.utterance_count

    def get_urls(self):
        urls = [path("reassign-label/", self.admin_site.admin_view(self.reassign_label), name="reassign-label")]
        return urls + super().get_urls()

    def change_context(self, speaker):
        if not speaker.merges.exists():
            return {}
        return {"merges_url": reverse("admin:transcripts_speakermerge_changelist") + f"?target__id__exact={speaker.pk}"}

    def object_revisions(self, speaker):
        """The speaker's own revisions and those of every alias it ever had."""
        aliases = event_model(SpeakerAlias).objects.filter(speaker_id=speaker.pk).values("pgh_obj_id")
        alias_revisions = revisions(SpeakerAlias, aliases, what=gettext("alias «{}»"))
        both = super().object_revisions(speaker) + alias_revisions
        return sorted(both, key=lambda revision: revision.event.pgh_created_at, reverse=True)

    @admin.action(description=_("Merge the selected speakers into one…"), permissions=["change"])
    def merge_into(self, request, queryset):
        """Confirmation page first; on confirm, move utterances and aliases, delete the rest."""
        if queryset.count() < 2:
            self.message_user(request, _("Select at least two speakers to merge."), messages.WARNING)
            return None
        if queryset.values("kind").distinct().count() > 1:
            self.message_user(request, _("Careful: the selection mixes people and roles."), messages.WARNING)
        form = MergeForm(request.POST if "confirm" in request.POST else None)
        form.fields["target"].queryset = queryset
        if "confirm" in request.POST and form.is_valid():
            target = form.cleaned_data["target"]
            merged = curation.merge_speakers(request.user, target, queryset.exclude(pk=target.pk))
            message = _("Merged %(names)s into %(target)s.") % {"names": merged, "target": target}
            self.message_user(request, message, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Merge speakers"),
            "speakers": queryset.annotate(n=Count("utterances")),
            "form": form,
            "opts": self.model._meta,
            "action_name": "merge_into",
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/transcripts/merge_speakers.html", context)

    def reassign_label(self, request):
        """Give every utterance with one label (as written in the sources) to one speaker."""
        if not self.has_change_permission(request):
            return redirect("admin:login")
        form = ReassignLabelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            label, target = form.cleaned_data["label"], form.cleaned_data["speaker"]
            count = curation.reassign_label(request.user, label, target)
            self.message_user(
                request,
                _("%(count)d statements labelled %(label)s now belong to %(target)s.")
                % {"count": count, "label": label, "target": target},
            )
            return redirect(reverse("admin:transcripts_speaker_change", args=[target.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reassign a label"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/transcripts/reassign_label.html", context)


class ReassignLabelForm(forms.Form):
    label = forms.ChoiceField(label=_("Label as written"))
    speaker = forms.ModelChoiceField(queryset=Speaker.objects.order_by("name"), label=_("Speaker"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = Utterance.objects.exclude(label="").values("label").annotate(n=Count("id")).order_by("label")
        self.fields["label"].choices = [(r["label"], f"{r['label']} ({r['n']})") for r in labels]


@admin.register(Utterance)
class UtteranceAdmin(RevisionsAdmin):
    list_display = ("__str__", "meeting", "speaker", "label", "text_curated", "speaker_curated")
    list_filter = ("text_curated", "speaker_curated", "speaker__kind")
    search_fields = ("text", "label")
    autocomplete_fields = ("speaker",)
    readonly_fields = (
        *("sid", "meeting", "seq", "label", "remark", "section", "source_line"),
        *("text_curated", "speaker_curated", "source_text", "corrected_at"),
    )
    formfield_overrides = TEXT_FIELDS

    def has_add_permission(self, request):
        return False

    fields = (
        *("sid", "meeting", "seq", "speaker", "label", "remark", "section", "text", "source_line"),
        *("text_curated", "speaker_curated", "source_text", "corrected_at"),
    )

    def change_context(self, statement):
        """The open conflicts are shown above the form: saving an edit resolves them."""
        return {"open_conflicts": statement.conflicts.filter(resolution=IngestConflict.Resolution.OPEN)}

    def save_model(self, request, obj, form, change):
        curation.mark_statement_edits(obj, form.changed_data)
        super().save_model(request, obj, form, change)
        if "text" in form.changed_data:
            curation.resolve_edited(request.user, obj)
