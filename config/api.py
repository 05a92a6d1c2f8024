"""The REST API under /api/v1: the shared base (common), its authentication (accounts), each app's router."""

from lianhu.accounts.api_auth import SessionAuth, TokenAuth
from lianhu.common.api import api

api.auth = [TokenAuth(), SessionAuth()]
api.add_router("/", "lianhu.org.api.router")
api.add_router("/", "lianhu.members.api.router")
