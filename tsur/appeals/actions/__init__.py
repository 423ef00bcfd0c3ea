"""Every change of an appeal goes through a function here, grouped by who takes the step.

Each step runs in one transaction, locks the appeal, refuses a step its status does not allow
(InvalidTransition, nothing changed), writes its timeline event with the acting user and the reason,
and hands side effects (notifications, dispatch's outage check) on only after commit — all of
which `base.step` does around the change the step itself makes.

    intake      register, add_photo
    moderation  send_to_moderation, assign, reject, merge, set_priority (operator)
    execution   take, request_clarification, interim_answer, answer,
                redirect, extend, link_to_outage                       (executor)
                reassign                                               (supervisor)
    review      approve_answer, return_answer                          (reviewer of answers)
    citizen     citizen_reply, comment, rate, close, reopen, subscribe (citizen)
                claim (not a step: anonymous appeals, at a sign-in by code)
    periodic    mark_deadlines, autoclose                              (job worker)
    tickets     file_ticket, fulfil                                    (the complaint book)
    privacy     record_contacts_seen, erase_personal_data              (152-ФЗ)
    channels    attach_source(s), record_delivery                      (social monitoring)

`together()` takes several steps as one batch: one transaction, the facts refreshed once at its end.
"""

from ..lifecycle import ACTION_NAMES, ALLOWED_FROM
from .base import together
from .channels import attach_source, attach_sources, record_delivery
from .citizen import citizen_reply, claim, close, comment, rate, reopen, subscribe
from .execution import (
    answer,
    extend,
    interim_answer,
    link_to_outage,
    reassign,
    redirect,
    request_clarification,
    take,
)
from .intake import add_photo, intake_key, register
from .moderation import assign, merge, reject, send_to_moderation, set_priority
from .periodic import autoclose, erase_expired_personal_data, mark_deadline, mark_deadlines
from .privacy import erase_personal_data, record_contacts_seen
from .review import approve_answer, return_answer
from .tickets import file_ticket, fulfil

__all__ = [
    "ACTION_NAMES",
    "ALLOWED_FROM",
    "add_photo",
    "answer",
    "approve_answer",
    "assign",
    "attach_source",
    "attach_sources",
    "autoclose",
    "citizen_reply",
    "claim",
    "close",
    "comment",
    "erase_expired_personal_data",
    "erase_personal_data",
    "extend",
    "file_ticket",
    "fulfil",
    "intake_key",
    "interim_answer",
    "link_to_outage",
    "mark_deadline",
    "mark_deadlines",
    "merge",
    "reassign",
    "rate",
    "redirect",
    "register",
    "record_contacts_seen",
    "record_delivery",
    "reject",
    "reopen",
    "request_clarification",
    "return_answer",
    "send_to_moderation",
    "set_priority",
    "subscribe",
    "take",
    "together",
]
