"""The demo's answer templates and answer review: a template for each of the most frequent topics
and one for any topic, a review rule for the demo executor's organisation, and two of its open
appeals answered so that the review queue has something in it (the second
answer is an «отписка», flagged). Their texts are the demo's own: these appeals had no answer.

Made after the history is replayed: the replayed answers were given without review."""

from collections import Counter

from django.db import transaction

from tsur.appeals import actions, answer_templates
from tsur.appeals.choices import Status
from tsur.appeals.models import AnswerTemplate, Appeal, ReviewRule, Topic
from tsur.core.choices import Role
from tsur.core.models import RoleAssignment, User

FREQUENT_TOPICS = 5
# a template's body by what the topic is about; the executor replaces what is in square brackets
BODIES = (
    ("мусор", "Мусор по адресу обращения вывезен [дата]. Площадка приведена в надлежащее состояние."),
    ("надпис", "Надписи и объявления по адресу обращения удалены [дата], поверхность окрашена."),
    ("освещ", "Освещение восстановлено [дата]: заменены [светильники, лампы, фотореле]."),
    ("уборк", "Уборка проведена [дата]; график уборки: [дни и часы]."),
    (
        "парадн",
        "В парадной выполнены работы: [что сделано] ([дата]). Работы, которые требуют "
        "текущего ремонта, включены в план на [год] и будут выполнены до [дата].",
    ),
)
GREETING = "Уважаемый(ая) {имя}!\nПо обращению № {номер} от {дата} сообщаем: "
SIGNATURE = "\n{организация}"
ANY_TOPIC = (
    GREETING + "[что сделано и когда, или что установлено при проверке]. Если работы ещё не закончены — "
    "срок их выполнения: [дата], не позднее {срок}." + SIGNATURE
)
DONE_ANSWER = (
    GREETING + "по адресу обращения проведено обследование, замечания устранены сегодня. Фото прилагается."
)
STOCK_ANSWER = "Ваше обращение рассмотрено и направлено в подрядную организацию для принятия мер."


def _body(topic: Topic) -> str:
    name = topic.name.lower()
    return next((body for key, body in BODIES if key in name), "[что сделано и когда].")


@transaction.atomic
def build(topics_by_frequency: Counter) -> dict[str, int]:
    """Templates for the most frequent topics, the review rule for the demo executor's organisation,
    two of its answers waiting for review."""
    executor = User.objects.filter(username="executor").first()
    assignment = (
        RoleAssignment.objects.filter(user=executor, role=Role.EXECUTOR, organisation__isnull=False)
        .select_related("organisation")
        .first()
        if executor is not None
        else None
    )
    # the whole district's answers are reviewed: the executor's organisation and the one above it
    organisation = assignment.organisation if assignment else None
    if organisation is not None and organisation.parent_id:
        organisation = organisation.parent
    made = {"templates": 0, "rules": 0, "in_review": 0}
    for topic, _count in topics_by_frequency.most_common(FREQUENT_TOPICS):
        _, created = AnswerTemplate.objects.get_or_create(
            topic=topic,
            name=f"Выполнено: {topic.name[:160]}",
            defaults={"text": GREETING + _body(topic) + SIGNATURE, "order": 10},
        )
        made["templates"] += created
    _, created = AnswerTemplate.objects.get_or_create(
        topic=None, name="Общий ответ по существу", defaults={"text": ANY_TOPIC, "order": 100}
    )
    made["templates"] += created
    if organisation is None:
        return made
    _, created = ReviewRule.objects.get_or_create(
        topic=None,
        organisation=organisation,
        defaults={
            "note": "Демо: ответы организации и подведомственных ей проверяет оператор ЦУР или руководитель"
        },
    )
    made["rules"] += created
    if Appeal.objects.filter(status=Status.REVIEW).exists():
        return made
    waiting = list(
        Appeal.objects.filter(
            organisation__path__startswith=organisation.path, status=Status.IN_WORK, topic__isnull=False
        )
        .select_related("organisation", "topic")
        .order_by("-registered_at")[:2]
    )
    for index, appeal in enumerate(waiting):
        text = (
            answer_templates.render(AnswerTemplate(text=DONE_ANSWER), appeal, None)
            if index == 0
            else STOCK_ANSWER
        )
        actions.answer(appeal, None, text=text)  # as the replayed history: no demo user wrote it
        made["in_review"] += 1
    return made
