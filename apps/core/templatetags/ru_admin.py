"""Template helpers for the admin's Russian: counts and «Добавить …» in the right case."""

from django import template

from apps.core import wordforms
from apps.core.numbers import format_money

register = template.Library()


@register.simple_tag
def ru_count(count, opts):
    return wordforms.count_phrase(count, opts.verbose_name, opts.verbose_name_plural)


@register.simple_tag
def ru_add_title(opts):
    return wordforms.add_title(opts.verbose_name)


@register.filter
def money(amount, currency="RUB"):
    return format_money(amount, currency)
