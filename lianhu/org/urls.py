from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("branches/", views.branch_list, name="branch_list"),
    path("branches/new/", views.BranchEditView.as_view(), name="branch_create"),
    path("branches/<int:pk>/", views.BranchDetailView.as_view(), name="branch_detail"),
    path("branches/<int:pk>/edit/", views.BranchEditView.as_view(), name="branch_edit"),
    path("grids/new/", views.GridEditView.as_view(), name="grid_create"),
    path("grids/<int:pk>/", views.GridDetailView.as_view(), name="grid_detail"),
    path("grids/<int:pk>/edit/", views.GridEditView.as_view(), name="grid_edit"),
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.HouseholdEditView.as_view(), name="household_create"),
    path("households/<int:pk>/", views.HouseholdDetailView.as_view(), name="household_detail"),
    path("households/<int:pk>/edit/", views.HouseholdEditView.as_view(), name="household_edit"),
    path("households/<int:household_pk>/residents/new/", views.ResidentEditView.as_view(), name="resident_create"),
    path("households/<int:household_pk>/residents/<int:pk>/edit/", views.ResidentEditView.as_view(),
         name="resident_edit"),
    path("reveal/<str:kind>/<int:pk>/<str:field>/", views.RevealView.as_view(), name="reveal"),
]
