from django.urls import path

from . import views

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
]
