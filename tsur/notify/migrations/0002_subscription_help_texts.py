# Notify names no codes of dispatch's: the help texts of a subscription describe the codes in words.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notify', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='subscription',
            name='object_kinds',
            field=models.JSONField(blank=True, default=list, help_text='коды типов инженерных объектов, например ["boiler_house", "substation"]; пусто — любые', verbose_name='типы объектов'),
        ),
        migrations.AlterField(
            model_name='subscription',
            name='topics',
            field=models.JSONField(default=list, help_text='коды событий: alarm_raised, outage_opened, outage_ended', verbose_name='события'),
        ),
    ]
