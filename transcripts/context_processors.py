"""Template context every page needs: links to this page in each language."""

from django.conf import settings
from django.urls import reverse, translate_url
from django.utils import translation


def languages(request):
    path = request.get_full_path()
    links = []
    for code, name in settings.LANGUAGES:
        url = translate_url(path, code)
        if url == path and code != translation.get_language():
            # Not a page that resolves (a 404): offer that language's home page.
            with translation.override(code):
                url = reverse("home")
        links.append({"code": code, "name": name, "url": url})
    return {"language_links": links}
