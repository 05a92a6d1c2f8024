def roles(request):
    """What the navigation needs to know about the user: the first membership and the allowed actions."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "membership": user.primary_membership,
        "can_manage_members": user.can("manage_members"),
        "can_edit_roster": user.can("edit_roster"),
        "can_reveal": user.can("reveal"),
        "can_view_audit": user.can("view_audit"),
        "can_edit_org": user.can("edit_org"),
        "can_edit_grids": user.can("edit_grids"),
    }
