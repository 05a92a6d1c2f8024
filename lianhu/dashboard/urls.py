from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("zone/", views.zone_overview, name="zone_overview"),
    path("offices/<int:pk>/", views.office_overview, name="office_overview"),
    path("my/", views.my_households, name="my_households"),
]
