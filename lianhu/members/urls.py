from django.urls import path

from . import views, views_proposals

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("new/", views.MemberEditView.as_view(), name="member_create"),
    path("<int:pk>/", views.MemberDetailView.as_view(), name="member_detail"),
    path("<int:pk>/edit/", views.MemberEditView.as_view(), name="member_edit"),
    path("<int:pk>/exempt/", views.MemberExemptView.as_view(), name="member_exempt"),
    path("<int:pk>/reinstate/", views.MemberReinstateView.as_view(), name="member_reinstate"),
    path("<int:pk>/left/", views.MemberLeftView.as_view(), name="member_left"),
    path("needs-member/", views.needs_member, name="needs_member"),
    path("households/<int:household_pk>/link/", views.HouseholdLinkView.as_view(), name="household_link"),
    path("links/<int:pk>/end/", views.LinkEndView.as_view(), name="link_end"),
    path("proposals/new/", views_proposals.ProposalCreateView.as_view(), name="proposal_create"),
    path("proposals/<int:pk>/", views_proposals.ProposalDetailView.as_view(), name="proposal_detail"),
    path("proposals/<int:pk>/apply/", views_proposals.ProposalApplyView.as_view(), name="proposal_apply"),
    path("proposals/<int:pk>/discard/", views_proposals.ProposalDiscardView.as_view(), name="proposal_discard"),
]
