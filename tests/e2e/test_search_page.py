"""The search page in real Chromium: the first hit on a phone's first screen, the
speaker picker with and without script, and the filter chips."""

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

# Filters and a query that names a person: chips and the people box above the hits.
BUSY = "/search/?q=Токаев+Казахстан&from=2019-01-01&to=2024-12-31&kind=talks&speaker=vladimir-putin"


@pytest.mark.parametrize("path", ["/search/?q=Казахстан", "/search/?q=Токаев", BUSY, "/en" + BUSY])
def test_the_first_hit_is_on_the_first_screen_at_360_pixels(browser, site, path):
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="ru-RU")
    page = context.new_page()
    page.goto(site + path)
    first = page.locator(".hit").first
    box = first.bounding_box()
    name = re.sub(r"\W+", "_", path)
    page.screenshot(path=f"test-artifacts/search-360{name}.png")
    assert page.locator(".chip").count() == (4 if "kind" in path else 0)
    assert box["y"] >= 0 and box["y"] + 40 <= 640, box  # its title at least is in view
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The filters are further down, and a link leads there.
    assert page.locator("#refine").bounding_box()["y"] > box["y"]
    page.get_by_role("link", name=re.compile("^(Фильтры|Filters) ↓$")).click()
    assert page.locator("#refine").bounding_box()["y"] < 640
    context.close()


def test_on_a_wide_screen_the_filters_stand_left_of_the_hits(page, site, shot):
    page.goto(site + BUSY)
    refine, hit = page.locator("#refine").bounding_box(), page.locator(".hit").first.bounding_box()
    assert refine["x"] + refine["width"] <= hit["x"] and refine["y"] < hit["y"] + hit["height"]
    shot("wide")


def test_typing_narrows_the_speaker_list_and_enter_searches_with_the_first_match(page, site, shot):
    page.goto(site + "/search/?q=Казахстан")
    box = page.get_by_role("searchbox", name="Найти выступающего")
    box.fill("наз")
    select = page.locator("#id_speaker")
    assert select.input_value() == "nursultan-nazarbayev"
    visible = select.locator("option:not([hidden])").all_inner_texts()
    assert len(visible) == 2 and visible[1].startswith("Нурсултан Абишевич Назарбаев (")  # and «any speaker»
    assert page.locator(".picker-status").inner_text() == "Подходящих выступающих: 1"
    box.fill("ток кас")  # word starts, in any order
    assert select.input_value() == "kassym-jomart-tokayev"
    box.fill("")
    assert select.locator("option:not([hidden])").count() == select.locator("option").count()
    box.fill("наз")
    shot("picker")
    box.press("Enter")
    page.wait_for_url(re.compile(r"speaker=nursultan-nazarbayev"))
    names = set(page.locator(".hit .meta strong").all_inner_texts())
    assert names == {"Нурсултан Абишевич Назарбаев"}
    chip = page.get_by_role("link", name="Убрать фильтр: Нурсултан Абишевич Назарбаев")
    assert chip.is_visible()
    shot("chip")
    chip.click()
    page.wait_for_url(lambda url: "speaker" not in url)
    assert page.locator(".chip").count() == 0
    assert len(set(page.locator(".hit .meta strong").all_inner_texts())) > 1


def test_without_script_the_plain_select_picks_a_speaker(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU", java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/search/?q=Казахстан")
    assert page.locator(".picker-filter").count() == 0
    page.get_by_label("Выступающий", exact=True).select_option("kassym-jomart-tokayev")
    page.get_by_role("button", name="Применить").click()
    page.wait_for_url(re.compile(r"speaker=kassym-jomart-tokayev"))
    assert set(page.locator(".hit .meta strong").all_inner_texts()) == {"Касым-Жомарт Кемелевич Токаев"}
    assert page.locator("#id_speaker").input_value() == "kassym-jomart-tokayev"
    page.get_by_label("Выступающий", exact=True).select_option("")  # «any speaker» again
    page.get_by_role("button", name="Применить").click()
    page.wait_for_url(re.compile(r"speaker=(&|$)"))
    assert page.locator(".error").count() == 0 and page.locator(".chip").count() == 0
    context.close()
