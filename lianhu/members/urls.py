from django.urls import path

from . import views, views_proposals

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("new/", views.member_edit, name="member_create"),
    path("<int:pk>/", views.member_detail, name="member_detail"),
    path("<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("<int:pk>/exempt/", views.member_exempt, name="member_exempt"),
    path("<int:pk>/reinstate/", views.member_reinstate, name="member_reinstate"),
    path("<int:pk>/left/", views.member_left, name="member_left"),
    path("needs-member/", views.needs_member, name="needs_member"),
    path("households/<int:household_pk>/link/", views.household_link, name="household_link"),
    path("links/<int:pk>/end/", views.link_end, name="link_end"),
    path("proposals/new/", views_proposals.proposal_create, name="proposal_create"),
    path("proposals/<int:pk>/", views_proposals.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/apply/", views_proposals.proposal_apply, name="proposal_apply"),
    path("proposals/<int:pk>/discard/", views_proposals.proposal_discard, name="proposal_discard"),
]
