"""Open311 clients: the civic apps and city systems that file and follow appeals over GeoReport v2."""

import secrets
import uuid

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from tsur.appeals.models import Appeal
from tsur.core import keys
from tsur.core.choices import Role
from tsur.core.models import RoleAssignment, User


class ApiClient(models.Model):
    """An application allowed to file appeals: its key (kept only as a hash), the name its appeals
    carry on the timeline, its own rate limit, and the system account it files them as."""

    name = models.CharField(_("приложение"), max_length=200)
    channel_name = models.CharField(
        _("название канала"),
        max_length=100,
        help_text=_("Показывается в ленте обращения, например «FixMyStreet»."),
    )
    key_prefix = models.CharField(_("начало ключа"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.OneToOneField(User, on_delete=models.PROTECT, editable=False, related_name="open311_client")
    rate_per_minute = models.PositiveIntegerField(_("запросов в минуту"), default=60)
    is_active = models.BooleanField(_("действует"), default=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)

    class Meta:
        verbose_name = _("клиент Open311")
        verbose_name_plural = _("клиенты Open311")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.channel_name})"

    @classmethod
    @transaction.atomic
    def issue(cls, name: str, channel_name: str, rate_per_minute: int = 60) -> tuple["ApiClient", str]:
        """A new client and its key; the key is shown once and never stored."""
        key = keys.new_key(32)
        user = User.objects.create(
            username=f"open311-{secrets.token_hex(4)}", first_name=channel_name[:150], is_active=True
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        RoleAssignment.objects.create(user=user, role=Role.SYSTEM)
        client = cls.objects.create(
            name=name,
            channel_name=channel_name,
            key_prefix=key[:8],
            key_hash=keys.digest(key),
            user=user,
            rate_per_minute=rate_per_minute,
        )
        return client, key

    @classmethod
    def by_key(cls, key: str) -> "ApiClient | None":
        if not key or len(key) > 200:
            return None
        return cls.objects.filter(key_hash=keys.digest(key), is_active=True).select_related("user").first()


class IssuedToken(models.Model):
    """The token given for a request: a client may look its request up by token, as the spec allows."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appeal = models.OneToOneField(Appeal, on_delete=models.CASCADE, related_name="open311_token")
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="tokens")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("токен заявки Open311")
        verbose_name_plural = _("токены заявок Open311")

    def __str__(self):
        return str(self.token)

    @classmethod
    def issue(cls, appeal: Appeal, client: "ApiClient") -> "IssuedToken":
        """The request's token, the same for a retried submission."""
        return cls.objects.get_or_create(appeal=appeal, defaults={"client": client})[0]


class ReceivedUpdate(models.Model):
    """An update a client posted (servicerequestupdates), by the client's own id: posted twice, it is
    recorded once."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="updates")
    their_id = models.CharField(max_length=64)
    event = models.OneToOneField("appeals.AppealEvent", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("обновление от клиента Open311")
        verbose_name_plural = _("обновления от клиентов Open311")
        constraints = [models.UniqueConstraint(fields=["client", "their_id"], name="open311_update_once")]

    def __str__(self):
        return f"{self.client_id}:{self.their_id}"
