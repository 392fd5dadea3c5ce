"""The admin index's count of open ingest conflicts (templates/admin/index.html)."""

from django import template

from ..models import IngestConflict

register = template.Library()


@register.simple_tag
def open_conflicts(user) -> int:
    """How many conflicts wait for an editor, for one who may see them (else 0)."""
    if not user.has_perm("transcripts.view_utterance"):
        return 0
    return IngestConflict.objects.filter(resolution=IngestConflict.Resolution.OPEN).count()
