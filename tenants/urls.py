from django.urls import path

from tenants import apis

urlpatterns = [
    path("tenant", apis.TenantAPI.as_view(), name="tenant"),
    path("auth/token", apis.TokenObtainAPI.as_view(), name="auth-token"),
    path("auth/token/refresh", apis.TokenRefreshAPI.as_view(), name="auth-token-refresh"),
    path("auth/logout", apis.LogoutAPI.as_view(), name="auth-logout"),
]
