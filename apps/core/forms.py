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
