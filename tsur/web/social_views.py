"""Social monitoring for the center's operators: the moderator's queue of posts the rules and the
model left undecided (one key per decision, static/web/social.js), the day's figures and the latest
incidents; and an incident's posts with the replies under them, for anyone who may see the appeal
(the authors' names and handles only for those who may see a citizen's personal data)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tsur.appeals import policies
from tsur.appeals.models import Appeal
from tsur.core.choices import Role
from tsur.core.errors import DomainError
from tsur.social import actions, selectors
from tsur.social.choices import Label
from tsur.social.models import Post

from . import places

PAGE = 30
KEYS = {Label.COMPLAINT: "1", Label.QUESTION: "2", Label.THANKS: "3", Label.OTHER: "4", Label.ABUSE: "5"}
STAFF = (
    Role.OPERATOR,
    Role.EXECUTOR,
    Role.SUPERVISOR,
    Role.ANALYST,
    Role.LEADERSHIP,
    Role.DISPATCHER,
    Role.ADMINISTRATOR,
)


def _require_social(request) -> None:
    if not places.may_open(request.user, places.SOCIAL):
        raise PermissionDenied(_("Модерация соцсетей доступна операторам центра."))


@login_required
@require_GET
def queue(request):
    _require_social(request)
    now = timezone.now()
    waiting = list(selectors.waiting()[:PAGE])
    context = {
        "section": "social",
        "posts": waiting,
        "figures": selectors.figures(now),
        "incidents": selectors.incidents(request.user),
        "elsewhere": selectors.elsewhere(),
        "labels": [(value, label, KEYS[value]) for value, label in Label.choices],
    }
    return render(request, "web/social/queue.html", context)


@login_required
@require_POST
def decide(request):
    _require_social(request)
    try:
        post = Post.objects.get(pk=int(request.POST.get("post", "")))
    except (ValueError, Post.DoesNotExist):
        return HttpResponseBadRequest(_("Публикация не найдена."))
    label = request.POST.get("label", "")
    if label not in Label.values:
        return HttpResponseBadRequest(_("Выберите класс публикации."))
    try:
        actions.decide(post, request.user, label)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Решение принято: «%(label)s».") % {"label": Label(label).label})
    return redirect("web:social")


@login_required
@require_GET
def incident(request, number: str):
    if not request.user.has_role(*STAFF):
        raise PermissionDenied(_("Страница инцидента доступна сотрудникам."))
    appeal = (
        Appeal.objects.restrict(request.user)
        .filter(number=number)
        .select_related("topic", "organisation")
        .first()
    )
    if appeal is None:
        raise Http404
    context = {
        "section": "social" if places.may_open(request.user, places.SOCIAL) else "",
        "appeal": appeal,
        "posts": selectors.posts_of(appeal),
        "show_authors": policies.can_see_personal_data(request.user, appeal),
        "card": places.may_open(request.user, places.CONSOLE),
    }
    return render(request, "web/social/incident.html", context)
