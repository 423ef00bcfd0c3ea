"""Social monitoring: what the region watches (watch-lists and the sources that read them), the
posts found, and the official replies under them. An incident is an appeal of the register on the
`social` channel; its posts point to it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tsur.appeals.models import Appeal, AppealEvent
from tsur.core.models import Territory, User

from .choices import Label, LabelledBy, Network, PostKind, ReplyState


class WatchList(models.Model):
    """What a region looks for: keywords and minus-words, the areas (territories of the register)
    it covers; its sources are the communities and chats it reads."""

    name = models.CharField(_("название"), max_length=200)
    region = models.ForeignKey(
        Territory, verbose_name=_("регион"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    keywords = models.JSONField(_("ключевые слова"), default=list, blank=True)
    minus_words = models.JSONField(_("минус-слова"), default=list, blank=True)
    territories = models.ManyToManyField(
        Territory, verbose_name=_("территории"), blank=True, related_name="+"
    )
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("список наблюдения")
        verbose_name_plural = _("списки наблюдения")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Source(models.Model):
    """One account of the region in one network: what it reads (watched communities or chats, the
    keyword search) and whom it answers as. The token is never stored: `token_env` names the
    environment variable that holds it; the base URL is the setting's unless given here."""

    watchlist = models.ForeignKey(
        WatchList, verbose_name=_("список"), on_delete=models.CASCADE, related_name="sources"
    )
    network = models.CharField(_("сеть"), max_length=16, choices=Network.choices)
    name = models.CharField(_("название"), max_length=200)
    # VK: the official community's id (replies from the community); OK: the group id; Telegram: the bot
    account = models.CharField(_("официальный аккаунт"), max_length=128, blank=True)
    communities = models.JSONField(_("сообщества и чаты"), default=list, blank=True)
    search = models.BooleanField(_("поиск по ключевым словам"), default=False)
    base_url = models.URLField(_("адрес API"), blank=True)
    token_env = models.CharField(_("переменная окружения с токеном"), max_length=64)
    requests_per_second = models.FloatField(_("запросов в секунду"), default=3.0)
    cursor = models.JSONField(_("курсор"), default=dict, blank=True)
    failures = models.PositiveIntegerField(_("ошибок подряд"), default=0)
    backoff_until = models.DateTimeField(_("пауза до"), null=True, blank=True)
    last_error = models.CharField(_("последняя ошибка"), max_length=400, blank=True)
    last_polled_at = models.DateTimeField(_("опрошен"), null=True, blank=True)
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("источник")
        verbose_name_plural = _("источники")
        ordering = ["network", "name"]

    def __str__(self):
        return f"{self.get_network_display()}: {self.name}"


class Post(models.Model):
    """A post or comment found in a network, kept raw with its link. The author's name and handle
    are personal data (shown as an appeal's author is). A repost or an edited copy of a post already
    kept points to it (`duplicate_of`) instead of being triaged again."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="posts")
    network = models.CharField(_("сеть"), max_length=16, choices=Network.choices)
    external_id = models.CharField(_("id в сети"), max_length=128)
    kind = models.CharField(_("вид"), max_length=16, choices=PostKind.choices, default=PostKind.POST)
    # a comment's post (its own thread), and the id of what it answers in the network
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    reply_to = models.CharField(_("ответ на"), max_length=128, blank=True)
    community = models.CharField(_("сообщество или чат"), max_length=128, blank=True)
    author_handle = models.CharField(_("автор (id)"), max_length=128, blank=True)
    author_name = models.CharField(_("автор"), max_length=200, blank=True)
    text = models.TextField(_("текст"))
    link = models.URLField(_("ссылка"), max_length=500, blank=True)
    posted_at = models.DateTimeField(_("опубликовано"))
    edited_at = models.DateTimeField(_("изменено"), null=True, blank=True)
    repost_of = models.CharField(_("репост"), max_length=128, blank=True)
    raw = models.JSONField(_("как получено"), default=dict)
    fingerprint = models.CharField(max_length=40)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    found_at = models.DateTimeField(_("найдено"))
    # the decision ("" while the post waits for a moderator), and the model's guess with its confidence
    label = models.CharField(_("класс"), max_length=16, choices=Label.choices, blank=True)
    guess = models.CharField(_("предположение модели"), max_length=16, choices=Label.choices, blank=True)
    confidence = models.FloatField(_("уверенность"), null=True, blank=True)
    labelled_by = models.CharField(_("кем определено"), max_length=16, choices=LabelledBy.choices, blank=True)
    moderated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    moderated_at = models.DateTimeField(_("проверено"), null=True, blank=True)
    # the territory an actionable post names when the watch-list does not cover it: kept, and no
    # incident of this region unless a moderator takes it in
    elsewhere = models.ForeignKey(
        Territory,
        verbose_name=_("вне территорий списка"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    incident = models.ForeignKey(
        Appeal,
        verbose_name=_("инцидент"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="social_posts",
    )

    class Meta:
        verbose_name = _("публикация")
        verbose_name_plural = _("публикации")
        ordering = ["-posted_at", "-pk"]
        # the id first: a batch's lookup (network = …, id IN 100 ids) then reads 100 index entries
        # whatever the planner believes of the table (a network's share is no guide: one region's
        # posts are nearly all VK), instead of every post of the network
        constraints = [models.UniqueConstraint(fields=["external_id", "network"], name="post_id_network")]
        indexes = [
            # the moderator's queue: what waits for a decision, oldest first
            models.Index(fields=["found_at"], condition=Q(label=""), name="post_waiting"),
            models.Index(fields=["fingerprint", "posted_at"], name="post_fingerprint"),
            # the moderator's list of posts left out as outside the watch-list's territories
            models.Index(fields=["found_at"], condition=Q(elsewhere__isnull=False), name="post_elsewhere"),
        ]

    def __str__(self):
        return f"{self.network}:{self.external_id}"


class Reply(models.Model):
    """The official answer of an incident under one of its posts: stored first, then posted (and
    retried) by the job worker; its outcome goes on the incident's timeline."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="replies")
    incident = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="+")
    answer = models.ForeignKey(AppealEvent, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("текст"))
    state = models.CharField(
        _("состояние"), max_length=16, choices=ReplyState.choices, default=ReplyState.PENDING
    )
    attempts = models.PositiveIntegerField(_("попыток"), default=0)
    next_attempt_at = models.DateTimeField(_("следующая попытка"))
    external_id = models.CharField(_("id ответа в сети"), max_length=128, blank=True)
    error = models.CharField(_("ошибка"), max_length=400, blank=True)
    created_at = models.DateTimeField(_("создан"))
    posted_at = models.DateTimeField(_("опубликован"), null=True, blank=True)

    class Meta:
        verbose_name = _("ответ в соцсети")
        verbose_name_plural = _("ответы в соцсетях")
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["answer", "post"], name="reply_once_per_post")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="reply_due")]

    def __str__(self):
        return f"{self.post}: {self.state}"
