from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("branches/", views.branch_list, name="branch_list"),
    path("branches/new/", views.branch_edit, name="branch_create"),
    path("branches/<int:pk>/", views.branch_detail, name="branch_detail"),
    path("branches/<int:pk>/edit/", views.branch_edit, name="branch_edit"),
    path("grids/new/", views.grid_edit, name="grid_create"),
    path("grids/<int:pk>/", views.grid_detail, name="grid_detail"),
    path("grids/<int:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_edit, name="household_create"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:household_pk>/residents/new/", views.resident_edit, name="resident_create"),
    path("households/<int:household_pk>/residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("reveal/<str:kind>/<int:pk>/<str:field>/", views.reveal, name="reveal"),
]
