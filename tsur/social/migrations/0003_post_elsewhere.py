"""A post outside the watch-list's territories is kept with the territory it names, and listed for
the moderator."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_sign_in_codes"),
        ("social", "0002_social_channel_regulation"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="elsewhere",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="core.territory",
                verbose_name="вне территорий списка",
            ),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                condition=models.Q(("elsewhere__isnull", False)), fields=["found_at"], name="post_elsewhere"
            ),
        ),
    ]
