"""Reference data every other app stands on: territories, organisations, buildings, users and scopes."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .choices import OrganisationKind, PlaceKind, Role, TerritoryKind
from .memo import RememberedByKey
from .scopes import RestrictedQuerySet


class TreeNode(models.Model):
    """A node of a tree kept with a materialised path ("/1/4/17/") so subtrees filter in one query."""

    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        creating = self.pk is None
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        if path != self.path:
            old = self.path
            self.path = path
            type(self).objects.filter(pk=self.pk).update(path=path)
            if not creating and old:
                for child in type(self).objects.filter(path__startswith=old).exclude(pk=self.pk):
                    child.save(update_fields=["path"])

    def ancestors(self):
        ids = [int(x) for x in self.path.strip("/").split("/") if x]
        nodes = {n.pk: n for n in type(self).objects.filter(pk__in=ids)}
        return [nodes[i] for i in ids if i in nodes]


class Territory(TreeNode):
    """A territory of the region: the region itself, its municipal units and their settlements."""

    name = models.CharField(_("название"), max_length=200)
    kind = models.CharField(_("тип"), max_length=32, choices=TerritoryKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("входит в"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.SlugField(_("код"), max_length=64, unique=True, allow_unicode=True)
    oktmo = models.CharField(_("ОКТМО"), max_length=11, blank=True)

    class Meta:
        verbose_name = _("территория")
        verbose_name_plural = _("территории")
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganisationQuerySet(RestrictedQuerySet):
    """Organisations as far as a user's scope reaches: theirs and their subordinates, and those
    serving their territories (distinct: an organisation may serve several)."""

    scope_lookups = {"organisation": "", "territory": "territories"}

    def restrict(self, user, action="view"):
        return super().restrict(user, action).distinct()


class Organisation(TreeNode):
    """Anybody who receives and answers appeals: an executive body, an administration, an agency,
    a management company, a utility or a contractor."""

    name = models.CharField(_("название"), max_length=300, unique=True)
    short_name = models.CharField(_("краткое название"), max_length=120, blank=True)
    kind = models.CharField(_("тип"), max_length=32, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("вышестоящая"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    inn = models.CharField(_("ИНН"), max_length=12, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    territories = models.ManyToManyField(Territory, verbose_name=_("обслуживает территории"), blank=True)
    is_active = models.BooleanField(_("действует"), default=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("организация")
        verbose_name_plural = _("организации")
        ordering = ["name"]

    def __str__(self):
        return self.short_name or self.name


class Building(models.Model):
    """A building (or another addressable object) with its point, territory and management company."""

    address = models.CharField(_("адрес"), max_length=400)
    address_key = models.CharField(max_length=400, unique=True, editable=False)
    latitude = models.FloatField(_("широта"), null=True, blank=True)
    longitude = models.FloatField(_("долгота"), null=True, blank=True)
    territory = models.ForeignKey(Territory, verbose_name=_("территория"), on_delete=models.PROTECT)
    kind = models.CharField(
        _("вид объекта"), max_length=32, choices=PlaceKind.choices, default=PlaceKind.BUILDING
    )
    management_company = models.ForeignKey(
        Organisation,
        verbose_name=_("управляющая организация"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_buildings",
    )

    class Meta:
        verbose_name = _("здание")
        verbose_name_plural = _("здания")
        ordering = ["address"]
        # the houses around an appeal's point drawn on its card's map (a box of about 900 × 900 m)
        indexes = [models.Index(fields=["latitude", "longitude"], name="building_point")]

    def __str__(self):
        return self.address

    def save(self, *args, **kwargs):
        self.address_key = self.key_for(self.address)
        super().save(*args, **kwargs)

    @staticmethod
    def key_for(address: str) -> str:
        return " ".join(address.lower().replace("ё", "е").replace(",", " ").split())


class User(AbstractUser):
    """A person who signs in: a citizen or a member of staff; what they see is given by their roles."""

    middle_name = models.CharField(_("отчество"), max_length=150, blank=True)
    phone = models.CharField(_("телефон"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")

    @cached_property
    def role_set(self) -> frozenset[str]:
        if not self.pk:
            return frozenset()
        roles = {a.role for a in self.role_assignments()}
        if self.is_superuser:
            roles.add(Role.ADMINISTRATOR)
        return frozenset(roles)

    def role_assignments(self) -> list["RoleAssignment"]:
        """The user's role assignments, read once per user object (that is, once per request) and
        at most every few seconds per process."""
        cached = self.__dict__.get("_scope_assignments")
        if cached is None:
            cached = self.__dict__["_scope_assignments"] = remembered_assignments.get(self.pk)
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))


class RoleAssignment(models.Model):
    """One role of a user, optionally limited to an organisation (with its subordinates) or a territory
    (with everything inside it). A staff role with neither limit covers the whole region."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(_("роль"), max_length=32, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("организация"), null=True, blank=True, on_delete=models.CASCADE
    )
    territory = models.ForeignKey(
        Territory, verbose_name=_("территория"), null=True, blank=True, on_delete=models.CASCADE
    )

    class Meta:
        verbose_name = _("роль пользователя")
        verbose_name_plural = _("роли пользователей")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "organisation", "territory"], name="unique_role_assignment"
            )
        ]

    def __str__(self):
        limit = self.organisation or self.territory or _("весь регион")
        return f"{self.get_role_display()}: {limit}"


class SignInFailure(models.Model):
    """A failed sign-in, counted against the account and against the client's address (one row each)
    to stop password guessing across every process (tsur.core.signin). Keys are keyed hashes: the
    table holds neither usernames, which may be phones or e-mails, nor addresses (152-ФЗ)."""

    key = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)  # rows older than the window are pruned by it

    class Meta:
        verbose_name = _("неудачный вход")
        verbose_name_plural = _("неудачные входы")
        indexes = [models.Index(fields=["key", "at"], name="core_signinfailure_key_at")]

    def __str__(self):
        return f"{self.key[:8]}… {self.at:%Y-%m-%d %H:%M:%S}"


class SignInCode(models.Model):
    """A one-time code sent by e-mail for a resident to sign in with (tsur.core.codes). Only keyed
    hashes are kept: of the e-mail it went to, of the client's address that asked for it, and of the
    code itself, so the table names nobody and a copy of it signs nobody in. The last code sent to an
    address is the only one that may be entered. Rows older than an hour are pruned."""

    email_key = models.CharField(max_length=64)
    address_key = models.CharField(max_length=64, blank=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("код входа")
        verbose_name_plural = _("коды входа")
        indexes = [
            models.Index(fields=["email_key", "created_at"], name="core_signincode_email_at"),
            models.Index(fields=["address_key", "created_at"], name="core_signincode_address_at"),
        ]

    def __str__(self):
        return f"{self.email_key[:8]}… {self.created_at:%Y-%m-%d %H:%M:%S}"


# A user's role assignments, remembered in the process for a few seconds: every request needs them
# (tsur.core.scopes). Changes are seen at once in the process that makes them (signals connected
# in apps.py), in the other processes within ASSIGNMENTS_TTL_S (decision 0003).
ASSIGNMENTS_TTL_S = 5.0
remembered_assignments = RememberedByKey(
    lambda pk: list(RoleAssignment.objects.filter(user=pk).select_related("organisation", "territory")),
    ASSIGNMENTS_TTL_S,
)
