from rcm.navigation import nav_for


def shell(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "nav_items": nav_for(getattr(request, "role", None), request.path),
        "current_practice": getattr(request, "practice", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
    }
