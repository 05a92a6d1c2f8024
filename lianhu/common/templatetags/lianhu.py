from django import template

from lianhu.common.masking import age_on

register = template.Library()


@register.filter
def age(birth_date):
    """`{{ r.birth_date|age }}` → 76."""
    return age_on(birth_date)


@register.filter
def get(mapping, key):
    """`{{ f|get:x.name }}`: a dict's value for a key held in a variable."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
