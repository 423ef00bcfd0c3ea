# The outage's timeline: opened, appeal linked, answered all, ended.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0009_leaner_indexes'),
        ('dispatch', '0006_partition_readings'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OutageEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('opened', 'открыто'), ('appeal_linked', 'связано обращение'), ('answered_all', 'промежуточный ответ всем'), ('ended', 'устранено')], max_length=16, verbose_name='событие')),
                ('at', models.DateTimeField(verbose_name='когда')),
                ('note', models.TextField(blank=True, verbose_name='текст')),
                ('data', models.JSONField(blank=True, default=dict, verbose_name='данные')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='кто')),
                ('appeal', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='appeals.appeal', verbose_name='обращение')),
                ('outage', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='dispatch.outage')),
            ],
            options={
                'verbose_name': 'событие отключения',
                'verbose_name_plural': 'события отключений',
                'ordering': ['at', 'pk'],
            },
        ),
    ]
