"""Advisory locks that make concurrent ingests queue per document, slug and label,
and slugs picked under them."""

from __future__ import annotations

import hashlib

from django.db import connection
from slugify import slugify


def unique_slug(model, text: str, *, prefix: str = "", max_length: int = 100) -> str:
    base = slugify(f"{prefix} {text}".strip(), max_length=max_length, word_boundary=True) or "item"
    advisory_lock(model._meta.label, base)  # a concurrent ingest must not pick the same slug
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


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
