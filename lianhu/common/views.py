"""Base views: every object a view shows or changes is found through the scoped queryset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import generic

from lianhu.common.http import client_ip


def scoped_get_or_404(request, model, pk, action: str = "view", queryset=None):
    if not str(pk).isdigit():
        raise Http404
    qs = queryset if queryset is not None else model.objects.all()
    obj = (qs & model.objects.visible_to(request.user, action)).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


class ScopedMixin(LoginRequiredMixin):
    """`action` names what the view does; objects outside the user's scope for it are not found."""

    model = None
    action = "view"

    def scoped_queryset(self, action: str | None = None):
        return self.model.objects.visible_to(self.request.user, action or self.action)

    def get_queryset(self):
        return self.scoped_queryset()


class ScopedListView(ScopedMixin, generic.ListView):
    paginate_by = 50


class ScopedDetailView(ScopedMixin, generic.DetailView):
    pass


def apply_validation_error(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, by field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class ServiceFormView(ScopedMixin, generic.FormView):
    """A form whose valid data goes to a service; a ValidationError keeps the form as typed."""

    success_message = "已保存"

    def get_object(self):
        return scoped_get_or_404(self.request, self.model, self.kwargs["pk"], self.action)

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except ValidationError as e:
            apply_validation_error(form, e)
            return self.form_invalid(form)
        messages.success(self.request, self.get_success_message(result))
        return redirect(self.get_success_url(result))

    def get_success_message(self, result):
        return self.success_message

    @property
    def ip(self):
        return client_ip(self.request)


def paginate(request, queryset, per_page=50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)
