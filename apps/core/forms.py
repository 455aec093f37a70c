"""Form pieces shared by every app's admin: a decimal field that reads numbers as Russians type them.

`RuDecimalField` is a text box (inputmode=decimal, so phones show a digit keyboard) instead of
<input type=number>, whose locale handling silently dropped a decimal comma in Chromium. It parses
with apps.core.numbers.parse_decimal and shows values back with a decimal comma.

apps.core.apps.CoreConfig.ready() makes it the admin's form field for every models.DecimalField, so
each app's ModelAdmin gets it without doing anything; a form that declares its own decimal field
should use RuDecimalField (see docs/DEVELOPMENT.md).
"""

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.forms.utils import flatatt
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeData, mark_safe

from apps.core.numbers import format_decimal, parse_decimal


class RuDecimalInput(forms.TextInput):
    def __init__(self, attrs=None):
        base = {"inputmode": "decimal", "autocomplete": "off", "size": 14, "class": "ru-decimal"}
        super().__init__({**base, **(attrs or {})})


class RuDecimalField(forms.DecimalField):
    widget = RuDecimalInput

    def __init__(self, *args, **kwargs):
        kwargs.pop("localize", None)  # parse_decimal reads both separators whatever the setting
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_decimal(value)
        if number is None:
            return None
        if not number.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number

    def prepare_value(self, value):
        if value in (None, ""):
            return value
        if isinstance(value, str):
            return value  # what the person typed comes back as typed when the form has errors
        places = self.decimal_places
        text = format_decimal(value, places=None, strip_zeros=True)
        if places and places <= 2:
            text = format_decimal(value, places=places)
        return text

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (None if initial in (None, "") else parse_decimal(initial))
        except ValidationError:
            return True


class LargeSelect(forms.Select):
    """A select of hundreds of options (every IANA time zone) written by string joining.

    Django renders each option through its template engine (~0.1 ms an option): two zone selects of
    ~600 options on each service row made an order page with five services take seconds. Same HTML:
    (optgroups of) options, the current value selected, attributes as Django's.
    """

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = "" if value is None else str(value)
        parts = [format_html("<select{}>", flatatt(final))]
        for group, options in self._groups():
            if group is not None:
                parts.append(format_html('<optgroup label="{}">', group))
            for option_value, label in options:
                option_value = "" if option_value is None else str(option_value)
                selected = " selected" if option_value == chosen else ""
                parts.append(f'<option value="{escape(option_value)}"{selected}>{escape(label)}</option>')
            if group is not None:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 — every value and label is escaped above

    def _groups(self):
        loose = []
        for option_value, label in self.choices:
            if isinstance(label, list | tuple):
                if loose:
                    yield None, loose
                    loose = []
                yield option_value, label
            else:
                loose.append((option_value, label))
        if loose:
            yield None, loose


class FastFormRenderer(DjangoTemplates):
    """Django's template form renderer, with the commonest small templates written in Python.

    A form with hundreds of fields on a page (the order page's service rows) spent most of its time
    rendering the same tiny templates — a label, an <input>, a <select>'s options, an empty error
    list — through the template engine (~0.2 ms each). These produce the same HTML by string joining;
    anything else (or a value whose rendering would involve localisation) goes to the templates.
    apps/core/tests/test_fast_renderer.py checks the output against Django's templates.
    """

    def render(self, template_name, context, request=None):
        fast = _FAST_TEMPLATES.get(template_name)
        if fast is not None:
            html = fast(context)
            if html is not None:
                return html
        return super().render(template_name, context, request)


def _text(value) -> str | None:
    """`{{ value|stringformat:'s' }}` under autoescape; None for what the fast path does not handle."""
    if isinstance(value, SafeData):
        return str(value)
    if isinstance(value, str | int | Promise | Decimal | datetime.date) and not isinstance(value, bool):
        return escape(str(value))
    return None


def _attrs(attrs) -> str | None:
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {escape(name)}")
            continue
        text = _text(value)
        if text is None:
            return None
        parts.append(f' {escape(name)}="{text}"')
    return "".join(parts)


def _input(context) -> str | None:
    widget = context["widget"]
    attrs = _attrs(widget["attrs"])
    value = widget["value"]
    shown = "" if value is None else _text(value)
    if attrs is None or shown is None or not isinstance(widget["type"], str) or not isinstance(widget["name"], str):
        return None
    value_attr = "" if value is None else f' value="{shown}"'
    return f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"{value_attr}{attrs}>'


def _option(option) -> str | None:
    if option.get("template_name") != "django/forms/widgets/select_option.html":
        return None
    value, attrs = _text(option["value"]), _attrs(option["attrs"])
    label = option["label"]
    if value is None or attrs is None or not isinstance(label, str | Promise):
        return None
    return f'<option value="{value}"{attrs}>{conditional_escape(label)}</option>'


def _select(context) -> str | None:
    widget = context["widget"]
    attrs = _attrs(widget["attrs"])
    if attrs is None or not isinstance(widget["name"], str):
        return None
    parts = [f'<select name="{escape(widget["name"])}"{attrs}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            if not isinstance(group_name, str | Promise):
                return None
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            html = _option(option)
            if html is None:
                return None
            parts.append(f"\n  {html}\n")  # the option template ends with a newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _label(context) -> str | None:
    label = context["label"]
    if not isinstance(label, str | Promise):
        return None
    if not context["use_tag"]:
        return conditional_escape(label)
    attrs = _attrs(context["attrs"] or {})
    tag = context["tag"]
    if attrs is None or not isinstance(tag, str):
        return None
    return f"<{escape(tag)}{attrs}>{conditional_escape(label)}</{escape(tag)}>"


def _empty_errors(context) -> str | None:
    return "" if not context["errors"] else None


_INPUTS = ("text", "input", "hidden", "date", "datetime", "email", "url", "number", "password", "checkbox")
_FAST_TEMPLATES = {
    **{f"django/forms/widgets/{name}.html": _input for name in _INPUTS},
    "django/forms/widgets/select.html": _select,
    "django/forms/label.html": _label,
    "django/forms/errors/list/ul.html": _empty_errors,
    "django/forms/errors/list/default.html": _empty_errors,
}
