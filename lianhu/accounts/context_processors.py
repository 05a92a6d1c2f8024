from lianhu.common.navigation import nav_for
from lianhu.common.permissions import actions


def roles(request):
    """What every page needs about the user: his first membership, `can_<action>` for each registered
    action, and the navigation entries the apps registered for him (none while his second factor is still
    to be typed: they would all lead back to the code page)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = user.primary_membership
    # is_verified comes from django-otp's middleware; a request built without it is shown the bar.
    pending = user.second_factor_required and not getattr(user, "is_verified", lambda: True)()
    return {
        "membership": membership,
        **{f"can_{name}": user.can(name) for name in actions},
        "nav": [] if pending else nav_for(user, membership),
        "second_factor_pending": pending,
    }
