from django.urls import path

from . import views

app_name = "transfer"
urlpatterns = [
    path("<str:kind>/template/", views.template, name="template"),
    path("<str:kind>/export/", views.export, name="export"),
    path("<str:kind>/import/", views.upload, name="upload"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/confirm/", views.job_confirm, name="job_confirm"),
    path("jobs/<int:pk>/problems/", views.job_problems, name="job_problems"),
]
