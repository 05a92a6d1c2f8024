from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("users/", views.user_list, name="user_list"),
    path("users/<int:pk>/password-reset/", views.password_reset_view, name="password_reset"),
    path("tokens/", views.tokens, name="tokens"),
    path("second-factor/", views.second_factor, name="second_factor"),
    path("second-factor/enrol/", views.second_factor_enrol_view, name="second_factor_enrol"),
    path("second-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("second-factor/users/", views.second_factor_users, name="second_factor_users"),
    path("second-factor/users/<int:pk>/reset/", views.second_factor_reset_view, name="second_factor_reset"),
]
