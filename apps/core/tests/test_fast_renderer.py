"""FastFormRenderer writes the same HTML as Django's templates, field by field."""

import datetime
from decimal import Decimal

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy

from apps.core.forms import FastFormRenderer, RuDecimalField


class Sample(forms.Form):
    name = forms.CharField(label="Имя <и> «фамилия»", max_length=20, help_text="Как в паспорте")
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    email = forms.EmailField(required=False, widget=forms.EmailInput(attrs={"placeholder": 'a"b'}))
    count = forms.IntegerField(required=False)
    amount = RuDecimalField(max_digits=10, decimal_places=2, required=False)
    day = forms.DateField(required=False)
    at = forms.DateTimeField(required=False)
    flag = forms.BooleanField(required=False)
    kind = forms.ChoiceField(choices=[("", "—"), ("a", "Эконом & бизнес"), ("b", gettext_lazy("Бизнес"))])
    grouped = forms.ChoiceField(required=False, choices=[("Часто", [("x", "Икс")]), ("Все", [("y", "<Игрек>")])])
    many = forms.MultipleChoiceField(required=False, choices=[("1", "Один"), ("2", "Два")])
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _both(**kwargs):
    fast = Sample(renderer=FastFormRenderer(), **kwargs)
    slow = Sample(renderer=DjangoTemplates(), **kwargs)
    return fast, slow


def test_unbound_and_initial_forms_render_the_same():
    fast, slow = _both(initial={"name": "O'Нил <script>", "count": 12345, "amount": Decimal("1234.5"),
                                "day": datetime.date(2026, 12, 6), "flag": True, "kind": "a",
                                "grouped": "y", "many": ["1", "2"], "text": "a\nb"}, prefix="services-0")
    assert fast.as_div() == slow.as_div()
    for name in fast.fields:
        assert str(fast[name]) == str(slow[name]), name
        assert fast[name].label_tag() == slow[name].label_tag(), name


def test_bound_forms_with_errors_render_the_same():
    data = {"name": "x" * 30, "email": "нет", "count": "1,5", "kind": "zzz", "amount": "12,5", "flag": "on"}
    fast, slow = _both(data=data)
    assert not fast.is_valid() and not slow.is_valid()
    assert fast.as_div() == slow.as_div()


def test_the_common_templates_do_not_reach_the_template_engine(monkeypatch):
    rendered = []
    original = DjangoTemplates.render

    def spy(self, template_name, context, request=None):
        rendered.append(template_name)
        return original(self, template_name, context, request)

    monkeypatch.setattr(DjangoTemplates, "render", spy)
    form = Sample(renderer=FastFormRenderer(), initial={"kind": "a", "count": 3})
    for name in form.fields:
        str(form[name]), form[name].label_tag(), str(form[name].errors), form[name].errors.as_ul()
    assert set(rendered) == {"django/forms/widgets/textarea.html"}, rendered  # the only one left to templates


def test_it_is_the_projects_form_renderer():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FastFormRenderer)
