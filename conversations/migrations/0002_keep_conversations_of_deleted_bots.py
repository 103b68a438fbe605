# Conversation.bot and Message.bot: CASCADE -> SET_NULL (a bot's deletion keeps its
# conversations and their usage), and Conversation.bot_slug to name a deleted bot.

import django.db.models.deletion
from django.db import migrations, models


def _nullable_bot(model_name: str, table: str, related_name: str) -> migrations.operations.base.Operation:
    """AlterField in the state; in the database only DROP NOT NULL. (Django's AlterField would
    drop and re-add the foreign key, re-validating every row of the table under a lock that
    blocks inserts, for a change - on_delete - that Django, not PostgreSQL, enforces.) The
    indexes on bot_id (the foreign key's, conv_tenant_bot_idx, msg_tenant_bot_idx) stay as
    they are: PostgreSQL's b-tree indexes hold NULLs, so `bot_id IS NULL` uses them."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(
                model_name=model_name,
                name="bot",
                field=models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                    related_name=related_name, to="bots.bot",
                ),
            ),
        ],
        database_operations=[
            migrations.RunSQL(
                f'ALTER TABLE "{table}" ALTER COLUMN "bot_id" DROP NOT NULL',
                # Back only while no conversation of a deleted bot is kept (else this fails:
                # delete those first).
                f'ALTER TABLE "{table}" ALTER COLUMN "bot_id" SET NOT NULL',
            ),
        ],
    )


class Migration(migrations.Migration):

    dependencies = [
        ('bots', '0001_initial'),
        ('conversations', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='bot_slug',
            field=models.CharField(blank=True, db_default='', default='', max_length=64),
        ),
        _nullable_bot('conversation', 'conversations_conversation', 'conversations'),
        _nullable_bot('message', 'conversations_message', '+'),
    ]
