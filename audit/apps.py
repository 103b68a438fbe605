from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from audit.receivers import document_created

        # A document's row is inserted in one place (datasets.document_services, at its size
        # limit) inside the transaction that creates it: the event rides in the same one.
        post_save.connect(
            document_created, sender="datasets.Document", dispatch_uid="audit.document_created"
        )
