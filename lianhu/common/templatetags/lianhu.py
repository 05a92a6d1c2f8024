from django import template

from lianhu.common.masking import age_this_year

register = template.Library()


@register.filter
def age(birth_year):
    """`{{ r.birth_year|age }}` → 76: the age reached this year, from the birth year (the only part of
    the birth date kept in clear; an age in whole years would tell the day it changes)."""
    return age_this_year(birth_year)


@register.filter
def get(mapping, key):
    """`{{ f|get:x.name }}`: a dict's value for a key held in a variable."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
