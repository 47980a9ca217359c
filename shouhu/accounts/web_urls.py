"""Login pages in the "web" namespace (issue 10): second factor, password change, lockouts, tokens."""

from django.urls import URLPattern, URLResolver, path

from shouhu.accounts import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("account/otp/", views.otp_verify, name="otp_verify"),
    path("account/otp/setup/", views.otp_setup, name="otp_setup"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/lockouts/", views.lockouts, name="lockouts"),
    path("account/lockouts/<int:pk>/lift/", views.lockout_lift, name="lockout_lift"),
    path("account/tokens/", views.service_tokens, name="service_tokens"),
    path("account/tokens/<int:pk>/revoke/", views.service_token_revoke, name="service_token_revoke"),
]
