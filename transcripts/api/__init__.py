"""The read API under /api/v1/: plain Django views returning the JSON of
transcripts/serializers.py (docs/api.md says why not django-ninja)."""
