"""The citizen's consent to the processing of personal data, when and by whom recorded."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('appeals', '0010_complaint_ticket_events'),
    ]

    operations = [
        migrations.AddField(
            model_name='appeal',
            name='consent_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='согласие на обработку ПДн'),
        ),
        migrations.AddField(
            model_name='appeal',
            name='consent_source',
            field=models.CharField(blank=True, choices=[('citizen', 'Гражданин при подаче'), ('operator', 'Оператор со слов гражданина'), ('system', 'Информационная система, принявшая обращение')], max_length=16, verbose_name='кто зафиксировал согласие'),
        ),
    ]
