"""The archive: meetings, their sections and utterances, and the speakers."""

import secrets
from urllib.parse import urlencode

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
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
from text_unidecode import unidecode

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


def statement_url(meeting_url: str, seq: int, sid: str, q: str = "") -> str:
    """A statement in context: the part of its meeting page that holds it, anchored by
    its identifier, with ?q= to mark a query."""
    params = {"q": q} if q else {}
    if (page := meeting_page_of(seq)) > 1:
        params["page"] = page
    anchor = statement_anchor(sid)
    return f"{meeting_url}?{urlencode(params)}#{anchor}" if params else f"{meeting_url}#{anchor}"


# A statement's identifier: 8 characters without look-alikes (no 0/o, 1/l/i), random,
# never reused and never a position (31**8 ≈ 8.5e11 values).
SID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
SID_LENGTH = 8


def new_sid() -> str:
    return "".join(secrets.choice(SID_ALPHABET) for _ in range(SID_LENGTH))


def statement_anchor(sid: str) -> str:
    return f"s-{sid}"


class KeepsOldSlugs:
    """A model whose slug is a public address: saving a new slug keeps the old one
    as an OldSlug, which the views answer with a 301."""

    def save(self, *args, **kwargs):
        previous = None
        if self.pk is not None:
            previous = type(self).objects.filter(pk=self.pk).values_list("slug", flat=True).first()
        super().save(*args, **kwargs)
        if previous and previous != self.slug:
            OldSlug.remember(self, previous)


@SearchVectorField.register_lookup
class Matches(Lookup):
    """search_vector__matches=<tsquery text>: the text is cast, never parsed again, so it
    must come from search.tsquery.build_tsquery (PostgreSQL wrote its lexemes)."""

    lookup_name = "matches"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ ({rhs})::tsquery", [*lhs_params, *rhs_params]


def transliterated(name: str) -> str:
    """Russian in Latin letters, ё as e (Мирзиёев → Mirzieev, not Mirziioev)."""
    return unidecode(name.replace("ё", "е").replace("Ё", "Е"))


def normalize_name(name: str) -> str:
    """Lookup key for a speaker label or alias: case, ё/е and spacing folded."""
    return " ".join(name.replace("\u00a0", " ").replace("ё", "е").replace("Ё", "Е").split()).casefold()


def history(unrevised=()):
    """Insert, update and delete events (new instances per model: trackers keep its fields).
    A change to `unrevised` fields alone is no revision (they are still in each snapshot)."""
    return (
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(condition=pgtrigger.AnyChange(exclude=list(unrevised))),
        pghistory.DeleteEvent(),
    )


@pghistory.track(*history(), exclude=["updated_at"])
class Speaker(KeepsOldSlugs, PostgresModel):
    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        # "Вопрос", "Реплика": a journalist or a voice from the floor, not a person.
        ROLE = "role", _("role")

    name = models.CharField(_("canonical name"), max_length=255)
    short_label = models.CharField(_("short label"), max_length=120, blank=True, help_text="В.Путин")
    role = models.CharField(_("role"), max_length=255, blank=True)
    country = models.CharField(_("country"), max_length=120, blank=True)
    # For English readers: shown beside the Russian on /en/ pages; a search in Latin
    # script finds the person by these (search/latin.py).
    name_latin = models.CharField(
        _("name in English (Latin script)"), max_length=255, blank=True, help_text="Kassym-Jomart Tokayev"
    )
    latin_aliases = ArrayField(
        models.CharField(max_length=120),
        verbose_name=_("other Latin spellings"),
        default=list,
        blank=True,
        help_text=_("Comma-separated: Tokayev,Tokaev"),
    )
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

    @property
    def latin_name(self) -> str:
        """The Latin name, else a transliteration of the Russian one (Tokaev for Токаев)."""
        return self.name_latin or transliterated(self.name)


@pghistory.track(*history())
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


@pghistory.track(*history(), exclude=["updated_at"])
class Meeting(KeepsOldSlugs, PostgresModel):
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
    # People the title or lead names («с Президентом Казахстана Касым-Жомартом Токаевым»),
    # turns or not: derived from the stored title and lead (participants.py).
    named_people = models.ManyToManyField(
        Speaker, blank=True, related_name="named_in", verbose_name=_("people named in the title or lead")
    )
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
        indexes = [
            models.Index(fields=["date"], name="meeting_date"),
            # A search's kind and place filters list their meetings (search/engine.py).
            models.Index(fields=["kind", "id"], name="meeting_kind"),
            models.Index(fields=["location", "id"], name="meeting_location"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("meeting", kwargs={"slug": self.slug})


@pghistory.track(*history())
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
    """Every modulus-th statement by id: a systematic sample, spread over every meeting and year."""
    return Q(Exact(Mod("id", modulus), 0))


class UtteranceQuerySet(PostgresQuerySet):
    def published(self):
        return self.filter(published=True)

    def matching(self, tsquery: str):
        """Statements whose search vector matches a tsquery from search.tsquery.build_tsquery."""
        return self.filter(search_vector__matches=tsquery)


class UtteranceManager(PostgresManager.from_queryset(UtteranceQuerySet)):
    use_in_migrations = False


# The search columns are derived by triggers: a change to them is no revision.
# A statement renumbered or moved in its file (seq, source_line) is not revised: a turn
# inserted near the top of 20,000 would otherwise snapshot every later one.
@pghistory.track(
    *history(unrevised=["seq", "source_line", "source_hash"]),
    exclude=["search_vector", "phrase_vector", "meeting_date", "published"],
)
class Utterance(PostgresModel):
    """One speaker turn, or one narrative paragraph (speaker and label empty)."""

    # The statement's permanent identifier: its address, anchor and citation. Ingest
    # carries it over to the same statement in a corrected file (importing/reconcile.py).
    sid = models.CharField(
        _("identifier"),
        max_length=SID_LENGTH,
        unique=True,
        default=new_sid,
        db_default=models.Func(function="kz_new_sid"),  # migration 0013, for raw SQL inserts
        editable=False,
    )
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
    # The file's wording where an editor's text replaced it ("" otherwise), and when.
    source_text = models.TextField(_("text in the source"), blank=True, db_default="", editable=False)
    corrected_at = models.DateTimeField(_("corrected"), null=True, blank=True, editable=False)
    # Kept current by database triggers (migration 0002), never written by Python:
    # speaker name and label (weight A), meeting title (B), text (D); and the
    # meeting's date and published flag, so searches filter and sort without a join.
    search_vector = SearchVectorField(null=True, editable=False)
    # Every two adjacent lexemes of search_vector as one ('росс~казахста', no positions;
    # migration 0017): a phrase is looked up, not checked statement by statement.
    phrase_vector = SearchVectorField(null=True, editable=False)
    meeting_date = models.DateField(null=True, editable=False)
    published = models.BooleanField(default=True, editable=False)

    objects = UtteranceManager()

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["meeting", "seq"]
        constraints = [
            # Deferred: a corrected file renumbers statements in one upsert (on sid).
            models.UniqueConstraint(
                fields=["meeting", "seq"], name="utterance_seq_unique", deferrable=models.Deferrable.DEFERRED
            )
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="utterance_search_gin"),
            GinIndex(fields=["phrase_vector"], name="utterance_phrase_gin"),
            # The 1%, 10% and 20% samples that estimates count (search/counting.py); made by
            # migrations 0016 and 0024 as `WHERE id % 100 = 0`, the form the queries use.
            GinIndex(fields=["search_vector"], name="utterance_search_1pct_gin", condition=in_sample(100)),
            GinIndex(fields=["search_vector"], name="utterance_search_10pct_gin", condition=in_sample(10)),
            GinIndex(fields=["search_vector"], name="utterance_search_20pct_gin", condition=in_sample(5)),
            models.Index(fields=["meeting_date", "meeting", "seq"], name="utterance_date_order"),
        ]

    def __str__(self):
        return f"{self.meeting_id}#{self.seq} {self.label}".strip()

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n\n")

    @property
    def anchor(self) -> str:
        return statement_anchor(self.sid)

    @property
    def old_anchor(self) -> str:
        """The positional anchor of earlier addresses (#uN), kept as a second anchor."""
        return f"u{self.seq}"

    @property
    def file_text(self) -> str:
        """The statement as the source file has it."""
        return self.source_text or self.text

    def get_absolute_url(self) -> str:
        return reverse("statement", kwargs={"sid": self.sid})

    def context_url(self, q: str = "") -> str:
        """The statement in its meeting."""
        return statement_url(self.meeting.get_absolute_url(), self.seq, self.sid, q)


class RetiredStatement(models.Model):
    """A statement identifier no longer in the archive, and why: its address answers
    with a 301 to what replaced it, or a 410 that links to its meeting. Written by
    ingest, and by a trigger on every other delete (migration 0013)."""

    class Reason(models.TextChoices):
        REMOVED = "removed", _("removed from the source")
        MERGED = "merged", _("merged into another statement")
        DELETED = "deleted", _("deleted by an editor")

    sid = models.CharField(max_length=SID_LENGTH, primary_key=True)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    # Plain values, not keys: the meeting itself may be gone.
    meeting_id = models.IntegerField(null=True)
    meeting_slug = models.CharField(max_length=160, blank=True)
    seq = models.PositiveIntegerField(null=True)
    label = models.CharField(max_length=255, blank=True)
    successor = models.CharField(max_length=SID_LENGTH, blank=True, help_text="sid of the statement it became")
    retired_at = models.DateTimeField()

    class Meta:
        verbose_name = _("retired statement")
        verbose_name_plural = _("retired statements")
        indexes = [models.Index(fields=["meeting_slug"], name="retired_meeting_slug")]

    def __str__(self):
        return self.sid


class OldSlug(models.Model):
    """A slug a meeting or speaker once had (openparliament's OldSlugMapping): its
    address redirects to the object's present one."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    obj = GenericForeignKey("content_type", "object_id")
    slug = models.CharField(max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_type", "slug"], name="old_slug_unique")]
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")

    def __str__(self):
        return self.slug

    @classmethod
    def remember(cls, obj, slug: str) -> None:
        kind = ContentType.objects.get_for_model(obj)
        cls.objects.filter(content_type=kind, slug=obj.slug).delete()  # the slug is current again
        cls.objects.update_or_create(content_type=kind, slug=slug, defaults={"object_id": obj.pk})

    @classmethod
    def find(cls, model, slug: str):
        """The object that once had this slug, or None."""
        kind = ContentType.objects.get_for_model(model)
        old = cls.objects.filter(content_type=kind, slug=slug).first()
        return model.objects.filter(pk=old.object_id).first() if old else None


class SpeakerMerge(models.Model):
    """One speaker merged into another, with what moved: enough to undo it
    (curation.undo_merge recreates the speaker with its id and slug)."""

    target = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="merges", verbose_name=_("merged into"))
    merged = models.JSONField(
        _("merged speaker"), help_text="The merged speaker's fields as they were, and its old slugs (old_slugs)."
    )
    statement_ids = ArrayField(models.IntegerField(), default=list)
    alias_ids = ArrayField(models.IntegerField(), default=list)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("merged by")
    )
    merged_at = models.DateTimeField(_("merged"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)

    class Meta:
        verbose_name = _("speaker merge")
        verbose_name_plural = _("speaker merges")
        ordering = ["-merged_at"]

    def __str__(self):
        return f"{self.merged.get('name')} → {self.target_id}"


class IngestConflict(models.Model):
    """An editor's version of a statement that a re-ingested file disagrees with:
    the editors' queue in the admin (keep / take the file's text / edit)."""

    class Resolution(models.TextChoices):
        OPEN = "", _("open")
        KEPT = "kept", _("editor's version kept")
        TAKEN = "taken", _("file's text taken")
        EDITED = "edited", _("edited")

    statement = models.ForeignKey(Utterance, on_delete=models.SET_NULL, null=True, blank=True, related_name="conflicts")
    sid = models.CharField(_("identifier"), max_length=SID_LENGTH)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("meeting"))
    label = models.CharField(_("label as written"), max_length=255, blank=True)
    editor_text = models.TextField(_("editor's text"))
    file_text = models.TextField(_("file's new text"), blank=True, help_text=_("Empty: the file no longer has it."))
    source_file = models.CharField(_("file"), max_length=255)
    created_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolution = models.CharField(_("resolution"), max_length=10, choices=Resolution.choices, blank=True, default="")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("ingest conflict")
        verbose_name_plural = _("ingest conflicts")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["resolution", "created_at"], name="conflict_open")]

    def __str__(self):
        return f"{self.meeting_id}/{self.sid} {self.label}".strip()

    def describe(self) -> str:
        """The line ingest prints: which statement, and what the file now says."""
        where = f"«{self.meeting.title}», statement {self.sid}" + (f" ({self.label})" if self.label else "")
        if not self.file_text:
            return f"{where} was edited and is no longer in the file; the editor's version is kept"
        quoted = self.file_text if len(self.file_text) <= 300 else self.file_text[:300] + "…"
        return f"{where} was edited; kept the editor's version. The file now says: «{quoted}»"


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


class ChampionList(models.Model):
    """A frequent lexeme's list of best statements, for relevance over every match
    (search/champions.py). Every published statement outside the list scores at most
    `floor` for this lexeme (relevance for the lexeme alone: champions.LEXEME_SCORE_SQL)."""

    lexeme = models.TextField(primary_key=True)
    floor = models.FloatField()
    built_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.lexeme


class Champion(models.Model):
    """One statement on a lexeme's list, with its score for that lexeme. Kept by a
    trigger as statements are written (migration 0016); stale rows are harmless,
    since a search re-checks and re-ranks every candidate."""

    pk = models.CompositePrimaryKey("lexeme", "statement_id")
    lexeme = models.TextField()
    statement_id = models.BigIntegerField()
    score = models.FloatField()


class LexemeCount(models.Model):
    """How many published statements hold a lexeme (anywhere in search_vector), per year
    of their meeting or per speaker: a one-word search's exact counts without reading its
    matches (search/counting.py). Statement triggers keep it equal to LEXEME_COUNT_SQL
    (migration 0021), as they keep the word list."""

    class Facet(models.TextChoices):
        YEAR = "y"  # value: the meeting's year (0: none)
        SPEAKER = "s"  # value: the speaker's id (narration is not counted here)

    pk = models.CompositePrimaryKey("lexeme", "facet", "value")
    lexeme = models.TextField()
    facet = models.CharField(max_length=1, choices=Facet.choices)
    value = models.IntegerField()
    statements = models.IntegerField()

    def __str__(self):
        return f"{self.lexeme} {self.facet}={self.value}: {self.statements}"

    @classmethod
    def rebuild(cls) -> int:
        """Recompute every count from LEXEME_COUNT_SQL (after a load with the triggers
        off: bench/build.py); returns the rows. Other writers wait meanwhile."""
        return _refill(
            cls, "lexeme, facet, value, statements", f"SELECT * FROM ({LEXEME_COUNT_SQL}) AS c ORDER BY 1, 2, 3"
        )


def _refill(model, columns: str, select: str) -> int:
    """Replace a table the statement triggers keep with what `select` makes, under the
    writers' lock (LEXEME_COUNT_LOCK); returns the rows."""
    from django.db import connections, router, transaction

    using = router.db_for_write(model)
    table = model._meta.db_table
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEXEME_COUNT_LOCK])
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}")
        return cursor.rowcount


# Every writer of LexemeCount holds this transaction-level advisory lock (migration 0021).
LEXEME_COUNT_LOCK = 7744552452799095668  # int.from_bytes(b"kz-lexct")
# What LexemeCount holds; the triggers and a rebuild compute it alike.
LEXEME_COUNT_SQL = """
SELECT l.lexeme, f.facet, f.value, count(*)::integer AS statements
FROM transcripts_utterance AS u
CROSS JOIN LATERAL unnest(tsvector_to_array(u.search_vector)) AS l (lexeme)
CROSS JOIN LATERAL (VALUES ('y', coalesce(extract(year FROM u.meeting_date)::integer, 0)), ('s', u.speaker_id))
    AS f (facet, value)
WHERE u.published AND f.value IS NOT NULL
GROUP BY 1, 2, 3
"""


class MeetingLexemes(models.Model):
    """Every lexeme of a meeting's published statements (the union of their search
    vectors, without positions): how many meetings a search for any of some words
    matches, exactly, without reading its statements (search/counting.py). Statement
    triggers keep it equal to MEETING_LEXEMES_SQL (migration 0022)."""

    meeting = models.OneToOneField(
        Meeting, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    lexemes = SearchVectorField()

    class Meta:
        indexes = [GinIndex(fields=["lexemes"], name="meeting_lexemes_gin")]

    def __str__(self):
        return f"meeting {self.meeting_id}: {len(self.lexemes or '')} characters of lexemes"

    @classmethod
    def rebuild(cls) -> int:
        """Recompute every meeting's lexemes (after a load with the triggers off:
        bench/build.py); returns the rows. Other writers wait meanwhile."""
        return _refill(
            cls, "meeting_id, lexemes", f"SELECT * FROM ({MEETING_LEXEMES_SQL.format(also='')}) AS m ORDER BY 1"
        )


# What MeetingLexemes holds (`also`: more conditions on u); the triggers and a rebuild alike.
MEETING_LEXEMES_SQL = """
SELECT u.meeting_id, kz_lexeme_union(strip(u.search_vector))
FROM transcripts_utterance AS u
WHERE u.published{also}
GROUP BY 1
"""


class ArchiveChange(models.Model):
    """A single row: when anything a public page shows last changed.

    Statement triggers on meetings, sections, utterances, speakers and aliases move it
    (migration 0010), so ingest, admin edits and raw SQL all invalidate HTTP caches."""

    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("archive change stamp")

    def __str__(self):
        return self.changed_at.isoformat()
