"""Driving Django admin change forms from tests: the POST a form would send back
unchanged, to which a test applies its edits."""

import datetime as dt

from django.forms import SplitDateTimeWidget
from django.urls import reverse
from django.utils import timezone


def form_data(response) -> dict:
    """The POST an admin change form would send back unchanged (main form and inlines)."""
    data = {}

    def add(form, name):
        field, value = form.fields[name], form[name].value()
        key = form.add_prefix(name)
        if isinstance(field.widget, SplitDateTimeWidget):
            value = timezone.localtime(value) if isinstance(value, dt.datetime) else None
            data[f"{key}_0"], data[f"{key}_1"] = (
                (value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")) if value else ("", "")
            )
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif value is not None:
            data[key] = value

    main = response.context["adminform"].form
    for name in main.fields:
        add(main, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
        for form in formset.forms:
            for name in form.fields:
                add(form, name)
    return data


def change_url(obj):
    return reverse(f"admin:transcripts_{obj._meta.model_name}_change", args=[obj.pk])
