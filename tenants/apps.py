from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import pre_save
        from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

        # OpenAPI descriptions of both credentials (drf-spectacular extensions register on import).
        from tenants import schema  # noqa: F401
        from tenants.jwt_backend import install
        from tenants.jwt_sessions import end_browser_session, forget_token_text

        # Staff JWTs signed under a SECRET_KEY_FALLBACKS key stay valid while rotating.
        install()
        # Signing out of the admin ends the playground's token of that session.
        user_logged_out.connect(end_browser_session, dispatch_uid="tenants.end_browser_session")
        # Refresh tokens are not kept whole in the database (only their jti, user and expiry).
        pre_save.connect(
            forget_token_text, sender=OutstandingToken, dispatch_uid="tenants.forget_token_text"
        )
