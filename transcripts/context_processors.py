"""Template context every page needs: links to this page in each language, and its
canonical address with the hreflang alternates (<head>, base.html)."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.safestring import mark_safe

# Parameters that change how a page is shown, not what it is: ?q= on a meeting marks matches.
NOT_CANONICAL = {"meeting": {"q"}}


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
    # On pages in another language, the archive's Russian text is marked as such (screen readers).
    lang_ru = "" if translation.get_language() == "ru" else mark_safe(' lang="ru"')
    return {"language_links": links, "lang_ru": lang_ru, **addresses(request)}


def addresses(request) -> dict:
    """`canonical`: this page's absolute address in its language, with the parameters
    that choose what it shows (a view may pass its own); `alternates`: (hreflang,
    address) in each language and x-default. Nothing for an address that resolves to no page."""
    match = request.resolver_match
    if match is None:
        return {}
    dropped = NOT_CANONICAL.get(match.url_name, set())
    kept = [
        (k, v)
        for k, values in request.GET.lists()
        if k not in dropped
        for v in values
        if not (k == "page" and v == "1")
    ]
    query = f"?{urlencode(kept)}" if kept else ""
    current = translation.get_language()
    urls = {
        code: request.build_absolute_uri(translate_url(request.path, code) + query) for code, _ in settings.LANGUAGES
    }
    alternates = [*urls.items(), ("x-default", urls[settings.LANGUAGE_CODE])]
    return {"canonical": urls.get(current, urls[settings.LANGUAGE_CODE]), "alternates": alternates}
