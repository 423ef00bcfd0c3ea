"""The citizen's personal data in the register (152-ФЗ): who of the staff was shown them, and their
erasure on request or when the retention period has run out — the appeal itself is kept, without
its person, for statistics."""

import re
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tsur.core import db
from tsur.core.errors import DomainError
from tsur.core.models import User
from tsur.notify.models import Delivery

from .. import policies
from ..choices import EventKind
from ..models import Appeal, AppealEvent, AppealPhoto, Follower, PersonalDataAccess
from .base import event, step

# Contacts a free text may carry: e-mail addresses and phone numbers (+7…, 8…, with spaces,
# brackets or dashes; at least ten digits, so house numbers and dates are left alone).
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(?:\+7|8|7)?[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)")
REMOVED = "[удалено]"


def scrub(text: str) -> str:
    """The text without its obvious contacts: e-mail addresses, phone numbers, flat numbers."""
    if not text:
        return text
    text = EMAIL.sub(REMOVED, text)
    text = PHONE.sub(REMOVED, text)
    return policies.FLAT.sub(f" {REMOVED}", text)


def record_contacts_seen(user: User, appeal_ids, interface: str, *, at: datetime | None = None) -> int:
    """One journal row per appeal whose citizen's name or contacts were shown to `user`, all in one
    statement (a list page is one insert, not fifty)."""
    ids = sorted(set(appeal_ids))
    if not ids or not user.is_authenticated:
        return 0
    at = at or timezone.now()
    rows = [
        PersonalDataAccess(appeal_id=pk, user=user, username=user.get_username(), at=at, interface=interface)
        for pk in ids
    ]
    db.insert(rows)
    return len(rows)


def erase_personal_data(
    appeal: Appeal | int, actor: User | None, *, reason: str, followers: bool = False, at=None
) -> AppealEvent:
    """Anonymise the appeal: the author's name, contacts and account, the flat in the address, the
    contacts in its texts and in its events, the photos the citizen sent and the notices written to
    their e-mail. Topic, place (the house), organisation, dates and statuses stay for statistics.
    With `followers` (retention ran out), the residents who joined it lose theirs too; on the
    author's request they keep them, as they gave their own consent."""
    if not (reason or "").strip():
        raise DomainError("Укажите основание обезличивания.", field="reason")
    return _erase(appeal, actor, reason=reason.strip(), followers=followers, at=at)


@step("erase_personal_data")
def _erase(appeal: Appeal, actor, *, reason: str, followers: bool, at: datetime) -> AppealEvent:
    email, author_id = appeal.author_email, appeal.author_id
    joined = 0
    if followers:
        joined = Follower.objects.filter(appeal=appeal).update(name="", email="", phone="", user=None)
    # what the citizen sent: photos attached at filing, or later by their own account; the
    # organisation's photos of its work stay
    photos = list(
        AppealPhoto.objects.filter(appeal=appeal).filter(
            Q(uploaded_at__lte=appeal.registered_at) | Q(uploaded_by__isnull=True) | Q(uploaded_by=author_id)
        )
    )
    appeal.author_name = appeal.author_email = appeal.author_phone = ""
    appeal.author = None
    if appeal.submitted_by_id is not None and appeal.submitted_by_id == author_id:
        appeal.submitted_by = None
    appeal.address = policies.public_address(appeal.address)
    appeal.text = scrub(appeal.text)
    appeal.intake_key = None  # for an anonymous filing, a digest of the name and contacts
    appeal.personal_data_erased_at = at
    appeal.save()
    for past in AppealEvent.objects.filter(appeal=appeal):
        cleaned = {k: v for k, v in past.data.items() if k != "from"}  # a name an Open311 app passed on
        changed = (scrub(past.reason), None if past.actor_id == author_id and author_id else past.actor_id)
        if (past.reason, past.actor_id, past.data) != (*changed, cleaned):
            past.reason, past.actor_id, past.data = *changed, cleaned
            past.save(update_fields=["reason", "actor", "data"])
    files = [p.image.name for p in photos if p.image.name]
    AppealPhoto.objects.filter(pk__in=[p.pk for p in photos]).delete()
    if files:
        storage = AppealPhoto._meta.get_field("image").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in files])
    deliveries = 0
    if email:
        deliveries, _ = Delivery.objects.filter(address__iexact=email, payload__appeal=appeal.number).delete()
    return event(
        appeal,
        EventKind.PERSONAL_DATA_ERASED,
        actor,
        at,
        status_from=appeal.status,
        reason=reason,
        data={"photos": len(photos), "deliveries": deliveries} | ({"followers": joined} if followers else {}),
    )
