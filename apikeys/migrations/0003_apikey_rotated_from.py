import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("apikeys", "0002_key_limits_kept")]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="rotated_from",
            field=models.ForeignKey(
                blank=True,
                help_text="The key this one replaced (POST /v1/api-keys/{id}/rotate).",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="apikeys.apikey",
            ),
        ),
    ]
