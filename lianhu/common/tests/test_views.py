"""The scoped base view: the object is found once, with the view's action, before any handler runs.

A stand-in model (notes in folders, each granting actions to named users) keeps common free of the apps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from lianhu.common.views import Parent, ScopedFormView, ScopedObjectView

LOOKUPS: list[tuple[str, str]] = []  # (model, action) of every scoped query


class Rows(list):
    """Just enough of a ScopedQuerySet: visible_to, filter, first, exists, all."""

    def __init__(self, model, rows):
        super().__init__(rows)
        self.model = model

    def all(self):
        return Rows(self.model, self)

    def filter(self, **fields):
        if "pk" in fields:
            fields["pk"] = int(fields["pk"])  # as the ORM does with "1"
        return Rows(self.model, [r for r in self if all(getattr(r, k) == v for k, v in fields.items())])

    def first(self):
        return self[0] if self else None

    def exists(self):
        return bool(self)

    def visible_to(self, user, action="view"):
        LOOKUPS.append((self.model.__name__, action))
        return Rows(self.model, [r for r in self if action in r.grants.get(user.username, ())])


@dataclass(eq=False)
class Folder:
    pk: int
    grants: dict[str, set[str]] = field(default_factory=dict)


@dataclass(eq=False)
class Note:
    pk: int
    folder: Folder
    grants: dict[str, set[str]] = field(default_factory=dict)


ALICE = {"alice": {"view", "edit"}, "carol": {"view"}}
HOME, WORK = Folder(1, ALICE), Folder(2, {"bob": {"view", "edit"}})
SHOPPING, ROTA = Note(1, HOME, ALICE), Note(2, WORK, {"alice": {"view", "edit"}, "bob": {"view", "edit"}})
Folder.objects = Rows(Folder, [HOME, WORK])
Note.objects = Rows(Note, [SHOPPING, ROTA])


class NoteView(ScopedObjectView):
    model = Note
    seen: list = []  # the objects the handlers ran for

    def get(self, request, *args, **kwargs):
        self.seen.append(self.object)
        return HttpResponse("ok")

    post = get


class NoteEditView(NoteView):
    action = "edit"


class NoteDeleteView(NoteView):
    action = "edit"
    http_method_names = ["post"]  # require_POST

    def get(self, request, *args, **kwargs):
        raise AssertionError("not a handler: http_method_names has only post")


class FolderNoteView(NoteEditView):
    """/folders/<folder_pk>/notes/<pk>/, and /folders/<folder_pk>/notes/new/ without a pk."""

    parent = Parent(Folder, url_kwarg="folder_pk", field="folder")


class NewNoteView(NoteEditView):
    """/notes/new/?folder=<pk>: the folder the note will go in."""

    parent = Parent(Folder, param="folder")

    def get(self, request, *args, **kwargs):
        self.seen.append((self.parent_object, self.object))
        return HttpResponse("ok")

    post = get


@pytest.fixture(autouse=True)
def fresh():
    LOOKUPS.clear()
    NoteView.seen.clear()


def call(view, user, method="get", path="/", data=None, **kwargs):
    request = getattr(RequestFactory(), method)(path, data or {})
    request.user = SimpleNamespace(is_authenticated=True, username=user) if isinstance(user, str) else user
    return view.as_view()(request, **kwargs)


def test_the_handler_runs_with_the_object_found_in_the_users_scope():
    assert call(NoteView, "alice", pk=1).status_code == 200
    assert NoteView.seen == [SHOPPING] and LOOKUPS == [("Note", "view")]


def test_an_object_out_of_scope_is_404_and_the_handler_never_runs():
    for method in ("get", "post", "head"):
        with pytest.raises(Http404):
            call(NoteView, "bob", method, pk=1)
    assert NoteView.seen == []


def test_a_write_view_looks_its_object_up_with_its_write_action():
    assert call(NoteView, "carol", pk=1).status_code == 200
    with pytest.raises(Http404):
        call(NoteEditView, "carol", "post", pk=1)
    assert LOOKUPS[-1] == ("Note", "edit") and NoteView.seen == [SHOPPING]


def test_a_pk_that_is_not_a_number_is_404_without_a_query():
    with pytest.raises(Http404):
        call(NoteView, "alice", pk="1 or 1=1")
    assert LOOKUPS == [] and NoteView.seen == []


def test_an_anonymous_user_is_sent_to_the_login_page_before_anything_is_looked_up():
    for view, method in [(NoteView, "get"), (NoteEditView, "post"), (NoteDeleteView, "get"), (NewNoteView, "get")]:
        response = call(view, AnonymousUser(), method, path="/notes/1/", pk=1)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:login") + "?next=/notes/1/"
    assert LOOKUPS == [] and NoteView.seen == []


def test_a_method_without_a_handler_is_405_before_anything_is_looked_up():
    for user in ("alice", "bob"):  # in scope or not: a GET to a POST-only view is 405, as with require_POST
        assert call(NoteDeleteView, user, "get", pk=1).status_code == 405
        assert call(NoteDeleteView, user, "options", pk=1).status_code == 405
    assert LOOKUPS == []
    assert call(NoteDeleteView, "alice", "post", pk=1).status_code == 200


def test_an_object_is_found_only_within_its_parent_and_the_parent_with_the_views_action():
    assert call(FolderNoteView, "alice", folder_pk=1, pk=1).status_code == 200
    with pytest.raises(Http404):  # alice may edit the rota, but it is not in her folder
        call(FolderNoteView, "alice", folder_pk=1, pk=2)
    with pytest.raises(Http404):  # nor is the folder it is in hers
        call(FolderNoteView, "alice", folder_pk=2, pk=2)
    with pytest.raises(Http404):  # carol sees the folder but may not edit in it
        call(FolderNoteView, "carol", folder_pk=1)
    assert LOOKUPS[-1] == ("Folder", "edit") and NoteView.seen == [SHOPPING]


def test_a_page_that_creates_finds_its_parent_from_the_query_or_the_form():
    assert call(NewNoteView, "alice", data={"folder": "1"}).status_code == 200
    assert call(NewNoteView, "alice", "post", data={"folder": "1"}).status_code == 200
    assert NoteView.seen == [(HOME, None), (HOME, None)]
    for data in ({"folder": "2"}, {"folder": "abc"}, {}):
        with pytest.raises(Http404):
            call(NewNoteView, "alice", "post", data=data)
    assert len(NoteView.seen) == 2


def test_allows_is_a_second_check_on_the_object_found():
    class NotePage(NoteView):
        def get(self, request, *args, **kwargs):
            return HttpResponse(str(self.allows("edit")))

    assert call(NotePage, "alice", pk=1).content == b"True"
    assert call(NotePage, "carol", pk=1).content == b"False"


class Rename(ScopedFormView):
    model, action = Note, "edit"
    refuse = False

    def get_form(self):
        from django import forms

        class Form(forms.Form):
            title = forms.CharField()

        return Form(self.request.POST or None)

    def form_valid(self, form):
        if self.refuse:
            raise ValidationError({"title": "taken"})
        return HttpResponse("saved")

    def render_form(self, form):
        return HttpResponse(f"form {dict(form.errors)}")


def test_a_form_view_saves_a_valid_form_and_shows_a_services_refusal_on_it():
    assert call(Rename, "alice", "get", pk=1).content == b"form {}"
    assert call(Rename, "alice", "post", data={"title": "x"}, pk=1).content == b"saved"
    Rename.refuse = True
    try:
        assert b"taken" in call(Rename, "alice", "post", data={"title": "x"}, pk=1).content
    finally:
        Rename.refuse = False
    with pytest.raises(Http404):
        call(Rename, "carol", "post", data={"title": "x"}, pk=1)
