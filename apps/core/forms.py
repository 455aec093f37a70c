"""Form pieces shared by every app's admin: a decimal field that reads numbers as Russians type them.

`RuDecimalField` is a text box (inputmode=decimal, so phones show a digit keyboard) instead of
<input type=number>, whose locale handling silently dropped a decimal comma in Chromium. It parses
with apps.core.numbers.parse_decimal and shows values back with a decimal comma.

apps.core.apps.CoreConfig.ready() makes it the admin's form field for every models.DecimalField, so
each app's ModelAdmin gets it without doing anything; a form that declares its own decimal field
should use RuDecimalField (see docs/DEVELOPMENT.md).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

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
