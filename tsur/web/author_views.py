"""The author's page of an appeal: what was asked, where it stands, the answer, and the author's own
steps (reply to a question, add a detail, rate the answer, confirm it or reopen the appeal).

Two ways in, one page:

- `/a/<number>/` for a signed-in resident: the author, with their steps (`policies.can`, where the
  AUTHOR role matches the account), or a resident who joined the appeal (read-only: the answer and
  the public timeline, not the author's text, photos or flat). Anybody else: 404.
- `/a/<number>/<key>/`, the private link given to the author at filing, for whoever holds it, signed
  in or not. The key is the authority: a key that `access.opens` stands for the author, and the steps
  allowed are those whose roles include AUTHOR (`policies.can_with_key`); the step is recorded as
  the author's (their account if the appeal has one). An unknown number and a wrong key are the same
  404, and every miss counts against the client's address (`signin.record_guess`): past
  ACCESS_KEY_FAILURES_PER_ADDRESS in the window, key checks from it answer 429. Since a link can be
  forwarded, its page shows the address without the flat.

Each step calls the same action as the REST API; a refusal of the register comes back as a message.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tsur.appeals import access, actions, policies
from tsur.appeals.choices import EventKind, Status
from tsur.appeals.lifecycle import may_rate, permits, reopen_until
from tsur.appeals.models import Appeal, AppealPhoto
from tsur.core import signin
from tsur.core.errors import DomainError, InvalidTransition

from . import resident_forms as forms
from .next_steps import next_step

GUESS = "access-key"  # what wrong keys are counted as, per client's address (tsur.core.signin)
NUMBER = r"(?P<number>[0-9]{2}-[0-9]{7,12})"
KEY = r"(?P<key>[-_A-Za-z0-9]{20,64})"

# the step in the address: (action, form, what the author is told when it is done, title)
STEPS = {
    "reply": (
        actions.citizen_reply,
        forms.ReplyForm,
        gettext_lazy("Ответ отправлен исполнителю."),
        gettext_lazy("Ответить на вопрос"),
    ),
    "rate": (
        actions.rate,
        forms.RateForm,
        gettext_lazy("Спасибо за оценку."),
        gettext_lazy("Оценить ответ"),
    ),
    "close": (
        actions.close,
        forms.ConfirmForm,
        gettext_lazy("Решение подтверждено, обращение закрыто."),
        gettext_lazy("Подтвердить: проблема решена"),
    ),
    "reopen": (
        actions.reopen,
        forms.ReopenForm,
        gettext_lazy("Обращение возобновлено и снова в работе."),
        gettext_lazy("Возобновить: проблема не решена"),
    ),
    "comment": (
        actions.comment,
        forms.CommentForm,
        gettext_lazy("Дополнение отправлено."),
        gettext_lazy("Дополнить обращение"),
    ),
}
ACTION_OF = {
    "reply": "citizen_reply",
    "rate": "rate",
    "close": "close",
    "reopen": "reopen",
    "comment": "comment",
}
STEP_NAMES = "|".join(STEPS)
# whose words each public event carries: the author sees the reasons meant for them, a resident who
# joined only the organisation's answers (what they are told by mail as well)
AUTHOR_REASONS = frozenset(
    {
        EventKind.CLARIFICATION_REQUESTED,
        EventKind.CITIZEN_REPLIED,
        EventKind.INTERIM_ANSWER,
        EventKind.ANSWERED,
        EventKind.REDIRECTED,
        EventKind.EXTENDED,
        EventKind.OUTAGE_LINKED,
        EventKind.REJECTED,
        EventKind.REOPENED,
        EventKind.CLOSED,
    }
)
FOLLOWER_REASONS = frozenset(
    {EventKind.INTERIM_ANSWER, EventKind.ANSWERED, EventKind.EXTENDED, EventKind.OUTAGE_LINKED}
)
# the answer's words while the center checks it are not the author's yet
UNAPPROVED = frozenset({EventKind.ANSWERED, EventKind.ANSWER_SUBMITTED})
ANSWER_SHOWN = frozenset({Status.ANSWERED, Status.CLOSED})


class Visit:
    """Who is looking at the appeal, and as whom: "author", "follower" or "key"."""

    def __init__(self, appeal: Appeal, as_: str, key: str | None = None):
        self.appeal, self.as_, self.key = appeal, as_, key

    @property
    def acts(self) -> bool:
        return self.as_ in ("author", "key")

    def url(self, name: str | None = None) -> str:
        number = self.appeal.number
        if self.key is None:
            return reverse(
                "web:author-step" if name else "web:author-page", args=[number, name] if name else [number]
            )
        args = [number, self.key, name] if name else [number, self.key]
        return reverse("web:author-link-step" if name else "web:author-link", args=args)

    def photo_url(self, photo_id: int) -> str:
        if self.key is None:
            return reverse("web:author-photo", args=[self.appeal.number, photo_id])
        return reverse("web:author-link-photo", args=[self.appeal.number, self.key, photo_id])

    def may(self, request, name: str) -> bool:
        """Whether this visitor may take step `name` (the status is the action's to check)."""
        action = ACTION_OF[name]
        if self.as_ == "key":
            return policies.can_with_key(action)
        return self.as_ == "author" and policies.can(request.user, action, self.appeal)

    def actor(self, request):
        """Who the step is recorded as: the signed-in author, or, through the link, the appeal's own
        author account (none for an appeal filed without one)."""
        if self.as_ == "key":
            return self.appeal.author if self.appeal.author_id else None
        return request.user


def _appeals():
    return Appeal.objects.select_related("topic__block", "organisation", "building", "merged_into")


def _by_account(request, number: str) -> Visit:
    user = request.user
    appeal = _appeals().filter(Q(author=user) | Q(followers__user=user), number=number).order_by("pk").first()
    if appeal is None:
        raise Http404
    return Visit(appeal, "author" if appeal.author_id == user.pk else "follower")


class TooManyGuesses(Exception):
    pass


def _by_key(request, number: str, key: str) -> Visit:
    address = signin.client_address(request)
    if signin.guesses_refused(GUESS, address, settings.TSUR["ACCESS_KEY_FAILURES_PER_ADDRESS"]) is not None:
        raise TooManyGuesses
    appeal = _appeals().filter(number=number).first()
    if appeal is None or not access.opens(appeal, key):
        signin.record_guess(GUESS, address)
        raise Http404
    return Visit(appeal, "key", key)


def _too_many(request):
    return render(request, "web/resident/too_many.html", status=429)


def _events(visit: Visit) -> list[dict]:
    appeal = visit.appeal
    shown = AUTHOR_REASONS if visit.acts else FOLLOWER_REASONS
    rows = []
    for event in appeal.events.filter(public=True).select_related("organisation").order_by("at", "pk"):
        reason = event.reason if event.kind in shown else ""
        if appeal.status == Status.REVIEW and event.kind in UNAPPROVED:
            reason = ""
        if not visit.acts:  # a resident who joined: the answer's words, not the author's name
            reason = policies.without_author_name(appeal, reason)
        rows.append({"event": event, "reason": reason})
    return rows


def _latest(appeal: Appeal, kind: str) -> str:
    found = appeal.events.filter(kind=kind, public=True).order_by("-at", "-pk").first()
    return found.reason if found is not None else ""


def _answer(visit: Visit) -> str:
    answer = _latest(visit.appeal, EventKind.ANSWERED)
    return answer if visit.acts else policies.without_author_name(visit.appeal, answer)


def _steps(request, visit: Visit) -> list[dict]:
    if not visit.acts:
        return []
    appeal = visit.appeal
    shown = []
    for name, (_action, form_class, _done, title) in STEPS.items():
        if not permits(ACTION_OF[name], appeal) or not visit.may(request, name):
            continue
        shown.append({"name": name, "title": title, "form": form_class(prefix=name), "url": visit.url(name)})
    return shown


def _page(request, visit: Visit):
    appeal = visit.appeal
    author_sees = visit.acts
    if visit.as_ == "author":
        address = policies.shown_address(request.user, appeal)
    else:
        address = policies.public_address(appeal.address)
    steps = _steps(request, visit)
    low_mark = (
        appeal.status == Status.ANSWERED
        and appeal.rating is not None
        and appeal.rating <= 2
        and not may_rate(appeal)
    )
    return render(
        request,
        "web/resident/appeal.html",
        {
            "section": "my",
            "appeal": appeal,
            "visit": visit,
            "author_sees": author_sees,
            "address": address,
            "photos": [visit.photo_url(p.pk) for p in appeal.photos.order_by("uploaded_at", "pk")]
            if author_sees
            else [],
            "events": _events(visit),
            "answer": _answer(visit) if appeal.status in ANSWER_SHOWN else "",
            "question": _latest(appeal, EventKind.CLARIFICATION_REQUESTED)
            if author_sees and appeal.status == Status.CLARIFICATION
            else "",
            "next": next_step(appeal, author=author_sees),
            "steps": steps,
            "step_names": {s["name"] for s in steps},
            "reopen_until": reopen_until(appeal),
            "reopen_days": settings.TSUR["REOPEN_WINDOW_DAYS"],
            "offer_reopen": low_mark,
        },
    )


def _take(request, visit: Visit, name: str):
    """Take step `name` for the visitor: the same action, with the same checks, as the REST API."""
    if name not in STEPS:
        raise Http404
    if not visit.may(request, name):
        raise PermissionDenied(_("Шаги по обращению может делать только его автор."))
    function, form_class, done, _title = STEPS[name]
    form = form_class(request.POST, prefix=name)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect(visit.url())
    try:
        function(visit.appeal, visit.actor(request), **form.arguments())
    except (DomainError, InvalidTransition) as error:
        messages.error(request, str(error))
        return redirect(visit.url())
    messages.success(request, done)
    if name == "rate" and form.cleaned_data["rating"] <= 2:
        visit.appeal.refresh_from_db(fields=["status"])
        if visit.appeal.status == Status.ANSWERED:
            messages.info(
                request,
                _("Жаль, что ответ не помог. Если проблема не решена, возобновите обращение — форма ниже."),
            )
    return redirect(visit.url())


def _photo(visit: Visit, photo_id: int):
    if not visit.acts:
        raise Http404  # the author's photos are theirs and the organisation's
    photo = AppealPhoto.objects.filter(appeal=visit.appeal, pk=photo_id).first()
    if photo is None:
        raise Http404
    try:
        file = photo.image.open("rb")
    except (FileNotFoundError, ValueError) as error:
        raise Http404 from error
    response = FileResponse(file, content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required(login_url="web:resident-login")
@require_GET
def page(request, number: str):
    return _page(request, _by_account(request, number))


@login_required(login_url="web:resident-login")
@require_POST
def step(request, number: str, name: str):
    return _take(request, _by_account(request, number), name)


@login_required(login_url="web:resident-login")
@require_GET
def photo(request, number: str, photo_id: int):
    return _photo(_by_account(request, number), int(photo_id))


@never_cache
@require_GET
def link_page(request, number: str, key: str):
    try:
        visit = _by_key(request, number, key)
    except TooManyGuesses:
        return _too_many(request)
    return _page(request, visit)


@require_POST
def link_step(request, number: str, key: str, name: str):
    try:
        visit = _by_key(request, number, key)
    except TooManyGuesses:
        return _too_many(request)
    return _take(request, visit, name)


@require_GET
def link_photo(request, number: str, key: str, photo_id: str):
    try:
        visit = _by_key(request, number, key)
    except TooManyGuesses:
        return _too_many(request)
    return _photo(visit, int(photo_id))
