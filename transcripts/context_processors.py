"""Template context every page needs: links to this page in each language."""

from django.conf import settings
from django.urls import translate_url


def languages(request):
    path = request.get_full_path()
    return {
        "language_links": [
            {"code": code, "name": name, "url": translate_url(path, code)} for code, name in settings.LANGUAGES
        ]
    }
