# A delivery may go to an address of its own, without a subscription (the register notifies an
# organisation, its supervisors or a citizen); appeal notices get their topic.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notify', '0002_subscription_help_texts'),
    ]

    operations = [
        migrations.AddField(
            model_name='delivery',
            name='address',
            field=models.CharField(blank=True, max_length=500, verbose_name='адрес'),
        ),
        migrations.AddField(
            model_name='delivery',
            name='channel',
            field=models.CharField(blank=True, choices=[('email', 'электронная почта'), ('webhook', 'веб-хук с подписью'), ('telegram', 'бот в мессенджере')], max_length=16, verbose_name='канал'),
        ),
        migrations.AlterField(
            model_name='delivery',
            name='subscription',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='notify.subscription', verbose_name='подписка'),
        ),
        migrations.AlterField(
            model_name='delivery',
            name='topic',
            field=models.CharField(choices=[('alarm_raised', 'тревога на объекте'), ('outage_opened', 'аварийное отключение'), ('outage_ended', 'отключение устранено'), ('appeal', 'событие обращения')], max_length=32, verbose_name='событие'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.CheckConstraint(condition=models.Q(('subscription__isnull', False), models.Q(models.Q(('channel', ''), _negated=True), models.Q(('address', ''), _negated=True)), _connector='OR'), name='delivery_has_a_recipient'),
        ),
    ]
