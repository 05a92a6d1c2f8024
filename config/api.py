"""The REST API under /api/v1; each app contributes a router from its api.py."""

from lianhu.common.api import api

api.add_router("/", "lianhu.org.api.router")
api.add_router("/", "lianhu.members.api.router")
