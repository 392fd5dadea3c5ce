"""A meeting on paper, in real Chromium with print media (static/css/print.css): the first
page holds the title and the first statements, the site's chrome is gone, nothing forces
a page break or keeps a long block whole, and in-page links print no target."""

import math
import re

import pytest
from django.db.models.functions import Length

from transcripts.models import Utterance

pytestmark = pytest.mark.django_db(transaction=True)

# A4 with print.css's @page margins (16 mm, 15 mm) at 96 px an inch: the printed column
# is 180 mm = 680 px wide and 265 mm ≈ 1001 px tall.
COLUMN = {"width": 680, "height": 1001}
FIRST_PAGE = 1000
CHROME = [".site-header", ".site-nav", ".search-box", ".language-switch", ".skip-link", ".breadcrumbs",
          ".meeting-links", ".meeting-nav", ".site-footer", ".permalink", ".cite"]  # fmt: skip


def test_a_printed_meeting_starts_with_its_title_and_first_statements(page, site, shot):
    # The meeting with the longest statement: kept whole, that one went to page 2.
    meeting = Utterance.objects.order_by(Length("text").desc()).first().meeting
    page.set_viewport_size(COLUMN)
    page.goto(site + meeting.get_absolute_url())
    page.emulate_media(media="print")
    shot("print")
    for selector in CHROME:
        shown = page.locator(selector).evaluate_all("nodes => nodes.filter(n => n.checkVisibility()).length")
        assert shown == 0, f"{selector} is printed"
    title = page.locator("h1").bounding_box()
    assert title["y"] < 100, title
    statements = page.locator(".utterance:not(.narration)")
    assert statements.count() >= 2
    first = statements.first.bounding_box()
    # Its speaker and at least its first lines are on page 1.
    assert first["y"] + 80 < FIRST_PAGE, f"the first statement starts at {first['y']:.0f} px"
    # Nothing pushes text down: no forced break, no block of more than a third of a page kept whole.
    pushers = page.evaluate(
        """limit => [...document.querySelectorAll('main, main *')].filter(e => {
             const s = getComputedStyle(e);
             const breaks = [s.breakBefore, s.breakAfter, s.pageBreakBefore, s.pageBreakAfter];
             return breaks.some(v => v === 'page' || v === 'always')
               || (s.breakInside.startsWith('avoid') && e.getBoundingClientRect().height > limit);
           }).map(e => `${e.tagName.toLowerCase()}.${e.className}#${e.id}`)""",
        FIRST_PAGE / 3,
    )
    assert pushers == []
    main_top = "m => parseFloat(getComputedStyle(m).paddingTop) + m.getBoundingClientRect().top"
    assert page.locator("main").evaluate(main_top) < 40  # no margin or hidden block above the text
    # In-page links (#s-…, #cite, #content) print no target after them.
    after = page.evaluate(
        """() => [...document.querySelectorAll('a[href^="#"]')].map(a => getComputedStyle(a, '::after').content)"""
    )
    assert after and set(after) <= {"none", "normal"}
    # The PDF Chromium prints has as many pages as the text needs, and not more.
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    height = page.locator("main").bounding_box()["height"]
    assert 1 <= pages <= math.ceil(height / FIRST_PAGE) + 1, (pages, height)
