"""{% service_fieldsets inline_admin_form parent_counter %}: the service rows' fieldsets written in
Python — the HTML of Django's admin/includes/fieldset.html (whitespace aside) for the ~200 fields of
an order page, where that template was about half of the page's CPU. A fieldset with a read-only
field, a description or a collapsible heading goes to Django's template (the services have none).
apps/orders/tests/test_admin.py compares the page with the one Django's templates make."""

from django import template
from django.template.loader import get_template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

register = template.Library()

USE_PYTHON = True  # the test switches it off to compare with Django's template


@register.simple_tag(takes_context=True)
def service_fieldsets(context, inline_admin_form, parent_counter):
    parts = []
    for index, fieldset in enumerate(inline_admin_form):
        html = _fieldset(fieldset, fieldset.formset.prefix, parent_counter, index) if USE_PYTHON else None
        if html is None:
            with context.push(fieldset=fieldset, heading_level=4, prefix=fieldset.formset.prefix,
                              id_prefix=parent_counter, id_suffix=index):
                html = get_template("admin/includes/fieldset.html").template.render(context)
        parts.append(html)
    return mark_safe("".join(parts))  # noqa: S308 — every value is escaped or rendered by its widget


def _fieldset(fieldset, prefix, id_prefix, id_suffix) -> str | None:
    if fieldset.description or fieldset.is_collapsible or fieldset.readonly_fields:
        return None
    heading = f"{escape(prefix)}-{id_prefix}-{id_suffix}-heading"
    out = [f'<fieldset class="module aligned {conditional_escape(fieldset.classes)}"']
    if fieldset.name:
        out.append(f' aria-labelledby="{heading}">')
        out.append(f'<h4 id="{heading}" class="fieldset-heading">{conditional_escape(fieldset.name)}</h4>')
    else:
        out.append(">")
    for line in fieldset:
        fields = list(line)
        single = len(line.fields) == 1
        if any(field.is_readonly for field in fields):
            return None
        classes = ["form-row"]
        line_errors = line.errors() if single else ""
        if single and line_errors:
            classes.append("errors")
        if not line.has_visible_field:
            classes.append("hidden")
        classes += [f"field-{field.field.name}" for field in fields if field.field.name]
        out.append(f'<div class="{escape(" ".join(classes))}">')
        out.append(line_errors if single else '<div class="flex-container form-multiline">')
        for field in fields:
            out.append(_field(field, single))
        if not single:
            out.append("</div>")
        out.append("</div>")
    out.append("</fieldset>")
    return "".join(out)


def _field(field, single: bool) -> str:
    bound = field.field
    errors = field.errors()
    box = ["flex-container"]
    if not single:
        box.append("fieldBox")
        if bound.name:
            box.append(f"field-{bound.name}")
        if errors:
            box.append("errors")
        if bound.is_hidden:
            box.append("hidden")
    if field.is_checkbox:
        box.append("checkbox-row")
    inner = f"{bound}{field.label_tag()}" if field.is_checkbox else f"{field.label_tag()}{bound}"
    out = ["<div>", "" if single else str(errors), f'<div class="{escape(" ".join(box))}">{inner}</div>']
    if bound.help_text:
        hidden = " hidden" if bound.is_hidden else ""
        label_id = bound.id_for_label
        id_attr = f' id="{conditional_escape(label_id)}_helptext"' if label_id else ""
        out.append(f'<div class="help{hidden}"{id_attr}><div>{bound.help_text}</div></div>')
    out.append("</div>")
    return "".join(out)
