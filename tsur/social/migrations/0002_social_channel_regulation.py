"""The social channel's deadlines as the regional centers' rules set them: a reply within 9 working
hours (4 when urgent), and after an interim answer at most 7 more days. A region changes them in the
admin («Сроки по каналам»)."""

from django.db import migrations


def forwards(apps, schema_editor):
    ChannelRegulation = apps.get_model("appeals", "ChannelRegulation")
    ChannelRegulation.objects.get_or_create(
        channel="social",
        defaults={"first_response_hours": 9, "urgent_first_response_hours": 4, "after_interim_days": 7},
    )


def backwards(apps, schema_editor):
    apps.get_model("appeals", "ChannelRegulation").objects.filter(channel="social").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0001_watchlists_sources_posts_replies"),
        ("appeals", "0019_channel_regulation_and_social_events"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
