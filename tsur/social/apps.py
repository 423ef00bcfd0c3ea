from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SocialConfig(AppConfig):
    name = "tsur.social"
    label = "social"
    verbose_name = _("Мониторинг социальных сетей")
