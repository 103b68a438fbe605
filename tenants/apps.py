from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # OpenAPI descriptions of both credentials (drf-spectacular extensions register on import).
        from tenants import schema  # noqa: F401
