"""The post's unique key with the network's id first, so a batch's lookup by ids reads only those
(decision 0031)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("social", "0003_post_elsewhere")]

    operations = [
        migrations.AddConstraint(
            model_name="post",
            constraint=models.UniqueConstraint(fields=("external_id", "network"), name="post_id_network"),
        ),
        migrations.RemoveConstraint(model_name="post", name="post_network_id"),
    ]
