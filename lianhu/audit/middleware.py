"""A page whose ID-number look-up the hourly limit refuses answers 429, in Chinese."""

from django.shortcuts import render

from .lookups import IdLookupLimit


class IdLookupLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, IdLookupLimit):
            return render(request, "429.html", {"message": str(exception)}, status=429)
        return None
