# Existing conversations get their bot's slug (new ones get it when they start).

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Bot = apps.get_model("bots", "Bot")
    Conversation = apps.get_model("conversations", "Conversation")
    # One UPDATE ... SET bot_slug = (SELECT slug FROM bots_bot WHERE id = bot_id).
    Conversation.objects.filter(bot_slug="", bot__isnull=False).update(
        bot_slug=Subquery(Bot.objects.filter(pk=OuterRef("bot_id")).values("slug")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0002_keep_conversations_of_deleted_bots'),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
