"""Start-up check: every registered permission action is given to roles that exist."""

from django.core.checks import Error, register

from lianhu.common.permissions import actions

from .models import Role


@register()
def actions_name_known_roles(app_configs, **kwargs):
    errors = []
    for name, action in actions.items():
        unknown = sorted(action.roles - set(Role.values))
        if unknown:
            errors.append(Error(f"permission action {name!r} names unknown roles: {', '.join(unknown)}",
                                id="lianhu.E002"))
    return errors
