"""Who may log in with a password: Django's rules, and a demo account only while the demo mode is on."""

from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Django's ModelBackend; `user_can_authenticate` also decides whether a session stays valid, so a
    demo account's sessions end as soon as the demo mode is turned off."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "demo_refused", False)
