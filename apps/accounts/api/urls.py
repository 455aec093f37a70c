from django.urls import path

from apps.accounts.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="auth-token"),
    path("auth/token/refresh/", views.TokenRefreshRotatingView.as_view(), name="auth-token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="auth-password"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
]
