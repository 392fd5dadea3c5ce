"""Advisory locks that make concurrent ingests queue per document, slug and label,
and slugs picked under them."""

from __future__ import annotations

import hashlib

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from slugify import slugify

from ..models import Meeting, OldSlug, RetiredStatement


def unique_slug(model, text: str, *, prefix: str = "", max_length: int = 100) -> str:
    base = slugify(f"{prefix} {text}".strip(), max_length=max_length, word_boundary=True) or "item"
    advisory_lock(model._meta.label, base)  # a concurrent ingest must not pick the same slug
    slug, n = base, 2
    while _taken(model, slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _taken(model, slug: str) -> bool:
    """A slug in use, or one that was ever an address: a renamed or merged object's old
    slug (it redirects), or a deleted meeting's (it answers 410)."""
    if model.objects.filter(slug=slug).exists():
        return True
    if OldSlug.objects.filter(content_type=ContentType.objects.get_for_model(model), slug=slug).exists():
        return True
    return model is Meeting and RetiredStatement.objects.filter(meeting_slug=slug).exists()


ADVISORY_LOCK_CLASS = 0x6B7A_0001  # ingest's advisory locks: (this, hash of what is locked)


def advisory_lock(kind: str, name: str) -> None:
    """Wait for, then hold until this transaction ends, the lock on one name: a source
    key, a slug, a label. A hash collision only makes an ingest wait."""
    digest = hashlib.sha256(f"{kind}\0{name}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [ADVISORY_LOCK_CLASS, int.from_bytes(digest[:4], "big", signed=True)],
        )
