"""The archive: meetings, their sections and utterances, and the speakers."""

from urllib.parse import urlencode

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Lookup, Q
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from psqlextra.manager import PostgresManager
from psqlextra.models import PostgresModel
from psqlextra.query import PostgresQuerySet

# The text search configuration: PostgreSQL's 'russian' with unaccent before the
# stemmer (ё→е before the stop-word check). Created in migration 0002; every
# query names it explicitly.
TS_CONFIG = "kz_russian"

# A meeting page shows this many statements: a 20,000-turn transcript is 100 parts, each
# rendered in well under a second. Part n holds seq (n-1)*size+1 … n*size, so a
# statement's part follows from its number alone (static/js/meeting.js does the same
# for old `#uN` links that reach the first part).
STATEMENTS_PER_PAGE = 200


def meeting_page_of(seq: int) -> int:
    return (seq - 1) // STATEMENTS_PER_PAGE + 1


def statement_url(meeting_url: str, seq: int, q: str = "") -> str:
    """A statement on the part of its meeting page that holds it, with ?q= to mark a query."""
    params = {"q": q} if q else {}
    if (page := meeting_page_of(seq)) > 1:
        params["page"] = page
    return f"{meeting_url}?{urlencode(params)}#u{seq}" if params else f"{meeting_url}#u{seq}"


@SearchVectorField.register_lookup
class Matches(Lookup):
    """search_vector__matches=<tsquery text>: the text is cast, never parsed again, so it
    must come from search.tsquery.build_tsquery (PostgreSQL wrote its lexemes)."""

    lookup_name = "matches"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ ({rhs})::tsquery", [*lhs_params, *rhs_params]


def normalize_name(name: str) -> str:
    """Lookup key for a speaker label or alias: case, ё/е and spacing folded."""
    return " ".join(name.replace("\u00a0", " ").replace("ё", "е").replace("Ё", "Е").split()).casefold()


class Speaker(PostgresModel):
    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        # "Вопрос", "Реплика": a journalist or a voice from the floor, not a person.
        ROLE = "role", _("role")

    name = models.CharField(_("canonical name"), max_length=255)
    short_label = models.CharField(_("short label"), max_length=120, blank=True, help_text="В.Путин")
    role = models.CharField(_("role"), max_length=255, blank=True)
    country = models.CharField(_("country"), max_length=120, blank=True)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    needs_review = models.BooleanField(
        _("needs review"), default=False, help_text=_("Created by ingest from a label the directory did not know.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")

    def __str__(self):
        return self.name


class SpeakerAlias(PostgresModel):
    """A way the sources write a speaker: "В.Путин", "российский лидер"."""

    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=255)
    normalized = models.CharField(max_length=255, unique=True, editable=False)

    class Meta:
        verbose_name = _("speaker alias")
        verbose_name_plural = _("speaker aliases")
        ordering = ["name"]

    def save(self, *args, **kwargs):
        self.normalized = normalize_name(self.name)
        super().save(*args, **kwargs)

    def __str__(self):
        return self.name


class MeetingQuerySet(PostgresQuerySet):
    def published(self):
        return self.filter(is_published=True)

    def chronological(self):
        """Oldest first; meetings of one day by time, undated times last."""
        return self.order_by("date", F("start").asc(nulls_last=True), "id")


class MeetingManager(PostgresManager.from_queryset(MeetingQuerySet)):
    """psqlextra's manager (upserts) with the QuerySet methods above."""

    use_in_migrations = False


class Meeting(PostgresModel):
    class Kind(models.TextChoices):
        TALKS = "talks", _("talks")
        MEETING = "meeting", _("meeting")
        CONVERSATION = "conversation", _("conversation")
        PRESS_STATEMENTS = "press_statements", _("press statements")
        PHONE_CALL = "phone_call", _("phone call")
        BRIEFING = "briefing", _("briefing")
        NEWS_REPORT = "news_report", _("news report")
        OTHER = "other", _("other")

    title = models.TextField(_("title"))
    title_derived = models.BooleanField(
        default=False, help_text=_("The source has no title; this one was made from the first sentence.")
    )
    slug = models.SlugField(max_length=160, unique=True)
    start = models.DateTimeField(_("start"), null=True, blank=True, help_text=_("Moscow time; empty if unknown."))
    date = models.DateField(_("date"))
    location = models.CharField(_("location"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    lead = models.TextField(_("lead"), blank=True)
    source_url = models.URLField(_("source URL"), max_length=500, blank=True)
    source_file = models.CharField(max_length=255)
    # What re-ingest matches on: the source URL, or the file name where there is none.
    source_key = models.CharField(max_length=600, unique=True, editable=False)
    layout = models.CharField(max_length=20)
    content_hash = models.CharField(max_length=64)
    language = models.CharField(max_length=8, default="ru")
    is_published = models.BooleanField(_("published"), default=True)
    # Each entry: how many utterances precede an "<…>" omission mark.
    omitted_after = ArrayField(models.PositiveIntegerField(), default=list, blank=True)
    # Fields an editor changed in the admin: re-ingest leaves them as the editor left them.
    curated_fields = ArrayField(models.CharField(max_length=40), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MeetingManager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = pgettext_lazy("model", "meetings")
        ordering = ["-date", models.F("start").desc(nulls_last=True), "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_url"], condition=~Q(source_url=""), name="meeting_source_url_unique"
            )
        ]
        indexes = [models.Index(fields=["date"], name="meeting_date")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("meeting", kwargs={"slug": self.slug})


class Section(PostgresModel):
    """A heading inside a transcript, e.g. the part after "* * *"."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField()
    heading = models.TextField(blank=True)

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [models.UniqueConstraint(fields=["meeting", "position"], name="section_position_unique")]

    def __str__(self):
        return self.heading or "* * *"


def in_sample(modulus: int) -> Q:
    return Q(Exact(Mod("meeting_id", modulus), 0))


class UtteranceQuerySet(PostgresQuerySet):
    def published(self):
        return self.filter(published=True)

    def matching(self, tsquery: str):
        """Statements whose search vector matches a tsquery from search.tsquery.build_tsquery."""
        return self.filter(search_vector__matches=tsquery)


class UtteranceManager(PostgresManager.from_queryset(UtteranceQuerySet)):
    use_in_migrations = False


class Utterance(PostgresModel):
    """One speaker turn, or one narrative paragraph (speaker and label empty)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="utterances")
    seq = models.PositiveIntegerField(_("number"))
    speaker = models.ForeignKey(Speaker, on_delete=models.PROTECT, null=True, blank=True, related_name="utterances")
    label = models.CharField(_("label as written"), max_length=255, blank=True)
    remark = models.CharField(_("remark"), max_length=255, blank=True, help_text="(как переведено)")
    section = models.ForeignKey(Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="utterances")
    text = models.TextField(_("text"), help_text=_("Paragraphs are separated by a blank line."))
    source_line = models.PositiveIntegerField(null=True, blank=True)
    # Editor's work that re-ingest must keep, and a hash of the text as the file
    # last had it, so a later change in the file is reported as a conflict once.
    text_curated = models.BooleanField(_("text edited by an editor"), default=False)
    speaker_curated = models.BooleanField(_("speaker set by an editor"), default=False)
    source_hash = models.CharField(max_length=40, blank=True, editable=False)
    # Kept current by database triggers (migration 0002), never written by Python:
    # speaker name and label (weight A), meeting title (B), text (D); and the
    # meeting's date and published flag, so searches filter and sort without a join.
    search_vector = SearchVectorField(null=True, editable=False)
    meeting_date = models.DateField(null=True, editable=False)
    published = models.BooleanField(default=True, editable=False)

    objects = UtteranceManager()

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["meeting", "seq"]
        constraints = [models.UniqueConstraint(fields=["meeting", "seq"], name="utterance_seq_unique")]
        indexes = [
            GinIndex(fields=["search_vector"], name="utterance_search_gin"),
            # The 2% and 0.4% cluster samples that estimates count (search/engine.py SAMPLE_MODULI);
            # made by migrations 0003 and 0004 as `WHERE meeting_id % 50 = 0`, the form queries use.
            GinIndex(fields=["search_vector"], name="utterance_search_sample_gin", condition=in_sample(50)),
            GinIndex(fields=["search_vector"], name="utterance_search_sample250_gin", condition=in_sample(250)),
            models.Index(fields=["meeting_date", "meeting", "seq"], name="utterance_date_order"),
        ]

    def __str__(self):
        return f"{self.meeting_id}#{self.seq} {self.label}".strip()

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n\n")

    @property
    def anchor(self) -> str:
        return f"u{self.seq}"

    def get_absolute_url(self, q: str = "") -> str:
        return statement_url(self.meeting.get_absolute_url(), self.seq, q)


# The did-you-mean word list, by definition: the words (once per row) of the
# published utterances and of the speaker names. VocabularyWord holds exactly
# this, kept current by triggers (migration 0011); rebuild() recomputes it.
VOCABULARY_SQL = """
SELECT word, count(*)::integer AS frequency FROM (
    SELECT word FROM transcripts_utterance AS u,
        unnest(tsvector_to_array(to_tsvector('simple', u.text))) AS word
    WHERE u.published
    UNION ALL
    SELECT word FROM transcripts_speaker AS s,
        unnest(tsvector_to_array(to_tsvector('simple', s.name))) AS word
) AS words
WHERE length(word) >= 3 AND word ~ '^[[:alpha:]][[:alpha:]-]*$'
GROUP BY word
"""
# Every writer of the word list holds this transaction-level advisory lock (migration 0011).
VOCABULARY_LOCK = 7744552495915164002  # int.from_bytes(b"kz-vocab")


class VocabularyWord(models.Model):
    """The archive's words and speaker names, for "did you mean" (pg_trgm).

    A table that statement triggers on utterances and speakers keep equal to
    VOCABULARY_SQL (migration 0011): each insert, update or delete adds and
    subtracts the words of the rows it changed, so nothing needs refreshing."""

    word = models.TextField(primary_key=True)
    frequency = models.IntegerField()

    class Meta:
        indexes = [GinIndex(fields=["word"], name="vocabulary_word_trgm", opclasses=["gin_trgm_ops"])]

    def __str__(self):
        return self.word

    @classmethod
    def rebuild(cls) -> int:
        """Recompute the list from VOCABULARY_SQL and correct the table where it
        differs (only those rows are written). Returns how many words were corrected:
        0 unless something bypassed the triggers. Blocks other writers of the list,
        and so ingest and publishing, for as long as the full query runs; readers
        see the old list until it commits."""
        from django.db import connections, router, transaction

        using = router.db_for_write(cls)
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [VOCABULARY_LOCK])
            cursor.execute("DROP TABLE IF EXISTS pg_temp.kz_vocabulary_full")
            cursor.execute(f"CREATE TEMPORARY TABLE kz_vocabulary_full ON COMMIT DROP AS {VOCABULARY_SQL}")
            cursor.execute("ANALYZE pg_temp.kz_vocabulary_full")
            corrected = 0
            for statement in (
                "DELETE FROM transcripts_vocabularyword AS v"
                " WHERE NOT EXISTS (SELECT FROM pg_temp.kz_vocabulary_full AS f WHERE f.word = v.word)",
                "UPDATE transcripts_vocabularyword AS v SET frequency = f.frequency"
                " FROM pg_temp.kz_vocabulary_full AS f WHERE f.word = v.word AND f.frequency <> v.frequency",
                "INSERT INTO transcripts_vocabularyword (word, frequency) SELECT f.word, f.frequency"
                " FROM pg_temp.kz_vocabulary_full AS f"
                " WHERE NOT EXISTS (SELECT FROM transcripts_vocabularyword AS v WHERE v.word = f.word) ORDER BY f.word",
            ):
                cursor.execute(statement)
                corrected += cursor.rowcount
            cursor.execute("DROP TABLE pg_temp.kz_vocabulary_full")
        return corrected


class ArchiveChange(models.Model):
    """A single row: when anything a public page shows last changed.

    Statement triggers on meetings, sections, utterances, speakers and aliases move it
    (migration 0010), so ingest, admin edits and raw SQL all invalidate HTTP caches."""

    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("archive change stamp")

    def __str__(self):
        return self.changed_at.isoformat()
