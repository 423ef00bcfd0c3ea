"""When an appeal's personal data were erased, and the event that says so."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('appeals', '0011_appeal_consent'),
    ]

    operations = [
        migrations.AddField(
            model_name='appeal',
            name='personal_data_erased_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='ПДн обезличены'),
        ),
        migrations.AlterField(
            model_name='appealevent',
            name='kind',
            field=models.CharField(choices=[('registered', 'Зарегистрировано'), ('sent_to_moderation', 'Направлено на модерацию'), ('assigned', 'Назначено исполнителю'), ('taken', 'Принято в работу'), ('clarification_requested', 'Запрошено уточнение'), ('citizen_replied', 'Гражданин ответил'), ('interim_answer', 'Промежуточный ответ'), ('answered', 'Дан ответ'), ('closed', 'Закрыто'), ('reopened', 'Возобновлено'), ('rejected', 'Отклонено'), ('redirected', 'Перенаправлено'), ('merged', 'Объединено как дубликат'), ('duplicate_attached', 'Присоединён дубликат'), ('extended', 'Срок продлён'), ('deadline_soon', 'Срок истекает'), ('overdue', 'Просрочено'), ('escalated', 'Эскалация руководителю'), ('outage_linked', 'Связано с аварийным отключением'), ('photo_added', 'Добавлено фото'), ('complaint_linked', 'Жалоба по книге жалоб'), ('understood', 'Распознано по тексту'), ('commented', 'Комментарий заявителя'), ('personal_data_erased', 'Персональные данные обезличены')], max_length=32, verbose_name='событие'),
        ),
    ]
