"""The journal of staff shown a citizen's name and contacts."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ('appeals', '0012_appeal_personal_data_erased'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonalDataAccess',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('username', models.CharField(max_length=150, verbose_name='учётная запись')),
                ('at', models.DateTimeField(verbose_name='когда')),
                ('interface', models.CharField(choices=[('api', 'REST API'), ('admin', 'Администрирование')], max_length=16, verbose_name='через')),
                ('appeal', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='appeals.appeal')),
                ('user', models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='кто')),
            ],
            options={
                'verbose_name': 'просмотр персональных данных',
                'verbose_name_plural': 'журнал просмотра персональных данных',
                'ordering': ['-at', '-pk'],
                'indexes': [models.Index(fields=['appeal', 'at'], name='pd_access_appeal_at'), models.Index(fields=['user', 'at'], name='pd_access_user_at')],
            },
        ),
    ]
