"""The REST API under /api/v1: the shared base (common), its authentication (accounts), each app's router."""

from lianhu.accounts.api_auth import SessionNotReady, SessionAuth, TokenAuth
from lianhu.audit.lookups import IdLookupLimit
from lianhu.common.api import api

api.auth = [TokenAuth(), SessionAuth()]


@api.exception_handler(IdLookupLimit)
def id_lookup_limit(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=429)


@api.exception_handler(SessionNotReady)
def session_not_ready(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=403)


api.add_router("/", "lianhu.org.api.router")
api.add_router("/", "lianhu.members.api.router")
