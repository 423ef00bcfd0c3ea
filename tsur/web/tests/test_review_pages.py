"""Answer review in the workspace: the console's queue with its count, the card of an answer in
review (text, photos, the «отписка» flag, approve or return), the supervisor approving in /work/,
the returned comment for the executor, the template picker and the priority form."""

import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tsur.appeals import actions
from tsur.appeals.choices import EventKind, Priority, Status
from tsur.appeals.models import AnswerTemplate, Appeal, ReviewRule

from .conftest import login

pytestmark = pytest.mark.django_db
PLACEHOLDER = "Ваше обращение рассмотрено и направлено в управляющую компанию."


def photo(name="done.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def reviewed(region):
    """The organisation's answers on the yard topic wait for review; the appeal is at work."""
    ReviewRule.objects.create(topic=region["yard"])
    actions.take(region["working"], region["executor"])
    return region


def test_the_executor_s_answer_waits_for_review_and_the_console_counts_it(reviewed):
    executor, operator = login(reviewed["executor"]), login(reviewed["operator"])
    number = reviewed["working"].number

    sent = executor.post(
        f"/work/appeals/{number}/answer/", {"answer-text": PLACEHOLDER, "answer-photos": [photo()]}
    )
    queue = operator.get("/console/?queue=review").content.decode()
    counts = operator.get("/console/counts/?queue=review").content.decode()

    assert Appeal.objects.get(number=number).status == Status.REVIEW
    assert messages_of(sent)[-1] == "Ответ направлен на проверку: гражданин увидит его после одобрения."
    assert "Ответы на проверке" in queue and number in queue
    assert '<b class="badge" data-queue="review">1</b>' in counts


def test_the_card_in_review_shows_the_answer_its_photo_and_the_flag_then_the_operator_approves(reviewed):
    appeal = reviewed["working"]
    picture = actions.add_photo(appeal, reviewed["executor"], photo())
    actions.answer(appeal, reviewed["executor"], text=PLACEHOLDER, photos=[picture])
    operator = login(reviewed["operator"])

    card = operator.get(f"/console/appeals/{appeal.number}/").content.decode()
    approved = operator.post(f"/console/appeals/{appeal.number}/approve_answer/")

    review_block = card[card.index('id="review"') : card.index("</section>", card.index('id="review"'))]
    assert PLACEHOLDER in review_block
    assert 'id="placeholder-flag"' in review_block and "Только общие фразы" in review_block
    assert f"/api/v1/appeals/{appeal.number}/photos/{picture.pk}/" in review_block
    assert "Одобрить" in review_block and "Вернуть на доработку" in review_block
    assert approved.status_code == 302
    assert messages_of(approved)[-1] == "Ответ одобрен и направлен гражданину."
    appeal.refresh_from_db()
    assert appeal.status == Status.ANSWERED
    assert appeal.events.get(kind=EventKind.ANSWERED).reason == PLACEHOLDER


def test_a_supervisor_approves_in_the_workspace_and_the_executor_may_not(reviewed):
    appeal = reviewed["working"]
    actions.answer(appeal, reviewed["executor"], text="Мусор вывезен 14.03, площадка убрана.")
    executor, supervisor = login(reviewed["executor"]), login(reviewed["supervisor"])

    own_card = executor.get(f"/work/appeals/{appeal.number}/").content.decode()
    refused = executor.post(f"/work/appeals/{appeal.number}/approve_answer/")
    queue = supervisor.get("/work/?queue=review").content.decode()
    approved = supervisor.post(f"/work/appeals/{appeal.number}/approve_answer/")

    assert "Ответ на проверке" in own_card and 'id="form-approve_answer"' not in own_card
    assert refused.status_code == 403
    assert appeal.number in queue and '<b class="badge" data-queue="review">1</b>' in queue
    assert approved.status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).status == Status.ANSWERED


def test_a_return_needs_a_comment_and_the_executor_sees_it_with_the_answer_to_rework(reviewed):
    appeal = reviewed["working"]
    actions.answer(appeal, reviewed["executor"], text=PLACEHOLDER)
    operator = login(reviewed["operator"])

    empty = operator.post(f"/console/appeals/{appeal.number}/return_answer/", {"return_answer-comment": ""})
    assert Appeal.objects.get(pk=appeal.pk).status == Status.REVIEW
    assert "обязательное поле" in messages_of(empty)[-1].lower()

    operator.post(
        f"/console/appeals/{appeal.number}/return_answer/",
        {"return_answer-comment": "Напишите дату вывоза & приложите <фото после уборки>"},
    )
    card = login(reviewed["executor"]).get(f"/work/appeals/{appeal.number}/").content.decode()

    assert Appeal.objects.get(pk=appeal.pk).status == Status.IN_WORK
    returned = card[card.index('id="returned"') : card.index("</section>", card.index('id="returned"'))]
    assert "Напишите дату вывоза &amp; приложите &lt;фото после уборки&gt;" in returned
    assert PLACEHOLDER in returned
    # the answer form starts from the returned text
    assert f">\n{PLACEHOLDER}</textarea>" in card


def test_the_template_picker_fills_the_text_for_this_appeal(reviewed):
    appeal = reviewed["working"]
    Appeal.objects.filter(pk=appeal.pk).update(author_name="<i>Иванова</i>")
    template = AnswerTemplate.objects.create(
        topic=reviewed["yard"],
        name="Мусор вывезен",
        text="Уважаемый(ая) {имя}! По обращению № {номер} мусор вывезен.",
    )
    AnswerTemplate.objects.create(topic=reviewed["roof"], name="Кровля", text="Другая тема")
    executor = login(reviewed["executor"])

    card = executor.get(f"/work/appeals/{appeal.number}/").content.decode()
    filled = executor.get(f"/work/appeals/{appeal.number}/answer-template/", {"answer-template": template.pk})
    empty = executor.get(f"/work/appeals/{appeal.number}/answer-template/", {"answer-template": ""})
    other = AnswerTemplate.objects.get(name="Кровля")
    foreign = executor.get(f"/work/appeals/{appeal.number}/answer-template/", {"answer-template": other.pk})

    assert f'hx-get="/work/appeals/{appeal.number}/answer-template/"' in card
    assert f'<option value="{template.pk}">Мусор вывезен</option>' in card and "Кровля" not in card
    body = filled.content.decode()
    assert filled.status_code == 200 and 'id="id_answer-text"' in body
    assert f"Уважаемый(ая) &lt;i&gt;Иванова&lt;/i&gt;! По обращению № {appeal.number} мусор вывезен." in body
    assert "<i>" not in body
    assert empty.status_code == 200 and '"id_answer-text">\n</textarea>' in empty.content.decode()
    assert foreign.status_code == 404


def test_the_operator_raises_the_priority_with_a_reason(reviewed):
    appeal = reviewed["working"]
    operator = login(reviewed["operator"])

    refused = operator.post(
        f"/console/appeals/{appeal.number}/set_priority/", {"set_priority-priority": "high"}
    )
    done = operator.post(
        f"/console/appeals/{appeal.number}/set_priority/",
        {"set_priority-priority": "high", "set_priority-reason": "Мусор перекрыл проезд пожарных"},
    )
    card = operator.get(f"/console/appeals/{appeal.number}/").content.decode()

    assert refused.status_code == 302 and "Почему" in messages_of(refused)[-1]
    assert done.status_code == 302
    appeal.refresh_from_db()
    assert appeal.priority == Priority.HIGH
    assert '<span class="pill pr-high" id="priority">Высокий</span>' in card
    assert "Мусор перекрыл проезд пожарных" in card
