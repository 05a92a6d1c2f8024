from lianhu.common.navigation import nav_for
from lianhu.common.permissions import actions


def roles(request):
    """What every page needs about the user: his first membership, `can_<action>` for each registered
    action, and the navigation entries the apps registered for him."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = user.primary_membership
    return {
        "membership": membership,
        **{f"can_{name}": user.can(name) for name in actions},
        "nav": nav_for(user, membership),
    }
