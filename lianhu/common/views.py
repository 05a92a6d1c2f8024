"""Base views: every object a view shows or changes is found through the scoped queryset."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views import defaults, generic

from .api import error_response, is_api_request
from .http import parse_pk

from .forms import VersionedFormMixin
from .versions import StaleVersion


def scoped_get_or_404(request, model, pk, action: str = "view", queryset=None):
    """The one object lookup of the web pages: out of the user's scope for `action`, missing, or a pk
    that is not a number the database can hold, it is a 404. `queryset` (of `model`) adds select_related
    or narrows to a parent; the scope is applied to it all the same."""
    pk = parse_pk(pk)
    if pk is None:
        raise Http404
    qs = model.objects.all() if queryset is None else queryset
    obj = qs.visible_to(request.user, action).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def action_required(action: str):
    """A page for users who hold `action` in one of their roles: anyone else gets the 404 an object out of
    scope gets, rather than an empty list (the audit administrator on a business list: 三员分立). Goes
    under @login_required, so an anonymous user is sent to log in first."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.can(action):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


@dataclass(frozen=True)
class Parent:
    """What a view's object lives in (a resident's household, a new branch's office), looked up first.

    Its pk is in the URL (`url_kwarg`), and then the object is looked up within it (`field`, the object's
    foreign key, by default the parent model's name); or, for a page that creates, in ?<param>= or the
    posted form (an object being edited already has its parent, so then none is looked up).
    """

    model: type
    url_kwarg: str | None = None
    param: str | None = None
    field: str | None = None


class ScopedObjectView(LoginRequiredMixin, generic.View):
    """A page about one object, looked up once, through `visible_to(user, action)`, before any handler runs.

    NetBox's ObjectPermissionRequiredMixin: `action` names what the page does ("view", or a write such as
    "edit_roster"), and the object and its `parent` are looked up with it, so one out of the user's scope
    for that action is a 404 and no handler runs. An anonymous user is sent to the login page before
    anything is looked up; a method without a handler is 405 without a lookup (a POST-only page sets
    `http_method_names = ["post"]`, as require_POST did).

    Handlers read `self.object` (None on a page that creates: the URL has no `pk_url_kwarg`) and
    `self.parent_object` (None without a `parent`). `get_queryset` adds select_related; `get_parent` and
    `get_object` may be overridden, and find what they find with `lookup`.
    """

    model = None
    action = "view"
    pk_url_kwarg = "pk"
    parent: Parent | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        method = request.method.lower()
        if method in self.http_method_names and hasattr(self, method):
            self.parent_object = self.get_parent()
            self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)

    @property
    def creating(self) -> bool:
        return self.kwargs.get(self.pk_url_kwarg) is None

    def get_queryset(self):
        return self.model.objects.all()

    def lookup(self, queryset, pk, action: str | None = None):
        """One object of `queryset` in the user's scope for `action` (the view's own by default), or 404."""
        return scoped_get_or_404(self.request, queryset.model, pk, action or self.action, queryset=queryset)

    def get_parent(self):
        parent = self.parent
        if parent is None:
            return None
        if parent.url_kwarg:
            pk = self.kwargs[parent.url_kwarg]
        elif self.creating:
            pk = self.request.GET.get(parent.param) or self.request.POST.get(parent.param) or ""
        else:
            return None
        return self.lookup(parent.model.objects.all(), pk)

    def get_object(self):
        if self.creating:
            # A page that creates where its form says (no parent in the URL) is still the action's: a role
            # that holds the action nowhere finds nothing here, as it would find no parent.
            if self.parent_object is None and not self.request.user.can(self.action):
                raise Http404
            return None
        queryset = self.get_queryset()
        if self.parent is not None and self.parent_object is not None:
            queryset = queryset.filter(**{self.parent.field or self.parent.model._meta.model_name: self.parent_object})
        return self.lookup(queryset, self.kwargs[self.pk_url_kwarg])

    def allows(self, action: str) -> bool:
        """Whether the user may also `action` this object (to offer the button): the explicit second check."""
        return self.get_queryset().visible_to(self.request.user, action).filter(pk=self.object.pk).exists()


def apply_validation_error(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, by field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class ScopedFormView(ScopedObjectView):
    """A scoped page with one form: GET shows it, a valid POST goes to `form_valid`.

    `get_form` binds `self.form_data` (or `self.request.POST or None`); `form_valid` calls the service and
    returns the response, and a ValidationError it raises is shown on the form as typed. The page is
    `template_name` with `form` and what `get_context_data(form)` adds.

    A form with a version (VersionedFormMixin) posted after someone else saved the record is stale: it is
    shown again filled from the record as stored now, with what was typed beside each field that differs,
    so a second click on 保存 cannot undo the other edit. Its `form_valid` passes `form.expected_version`
    to the service, whose StaleVersion (the record changed after this request read it) is shown the same way.
    """

    template_name: str
    stale_message = "该记录已被他人修改，以下为最新内容，请核对后重新提交"
    showing_stored = False

    @property
    def form_data(self):
        """What get_form binds: the posted data, or None to show the object as stored."""
        return None if self.showing_stored else (self.request.POST or None)

    def get_form(self):
        raise NotImplementedError

    def form_valid(self, form):
        raise NotImplementedError

    def get_context_data(self, form) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if isinstance(form, VersionedFormMixin) and form.is_stale():
            return self.render_stale(form)
        if form.is_valid():
            try:
                return self.form_valid(form)
            except StaleVersion:
                return self.render_stale(form)
            except ValidationError as e:
                apply_validation_error(form, e)
        return self.render_form(form)

    def render_form(self, form, **extra):
        return render(self.request, self.template_name, {"form": form, **self.get_context_data(form), **extra})

    def render_stale(self, posted):
        """The form again, filled from the record as stored now, with what `posted` said beside it."""
        self.object = self.get_object()
        self.showing_stored = True
        form = self.get_form()
        form.show_what_was_typed(posted)
        return self.render_form(form, warning=self.stale_message)


def paginate(request, queryset, per_page=50):
    """The page of ?page=: out of range (below 1, or past the end however large) the last one, junk the first.

    `get_page` turns the number into a page before any query, so no OFFSET beyond the database's range.
    """
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


# Django's error pages (config/urls.py handler400 …), except under /api/, where a client reads JSON in
# the API's error shape: an unknown path there is {"detail": …} 404 like a missing object.

def bad_request(request, exception):
    return error_response(request, 400) if is_api_request(request) else defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api_request(request):
        return error_response(request, 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    return error_response(request, 404) if is_api_request(request) else defaults.page_not_found(request, exception)


def server_error(request):
    return error_response(request, 500) if is_api_request(request) else defaults.server_error(request)
