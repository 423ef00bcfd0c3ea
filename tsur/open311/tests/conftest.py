import pytest
from django.core.cache import cache

from tsur.appeals.models import TopicQuestion
from tsur.appeals.tests.factories import BlockFactory, RuleFactory, TopicFactory
from tsur.core.tests.factories import OrganisationFactory


@pytest.fixture(autouse=True)
def _fresh_rates():
    cache.clear()


@pytest.fixture
def pothole():
    block = BlockFactory(name="Дороги")
    topic = TopicFactory(code="roads-pothole", name="Яма на дороге", block=block)
    TopicQuestion.objects.create(
        topic=topic,
        code="size",
        description="Размер ямы",
        datatype="singlevaluelist",
        required=True,
        order=1,
        values=[{"key": "small", "name": "Меньше 30 см"}, {"key": "large", "name": "Больше 30 см"}],
    )
    TopicQuestion.objects.create(
        topic=topic, code="count", description="Сколько ям", datatype="number", order=2
    )
    TopicQuestion.objects.create(
        topic=topic,
        code="hazards",
        description="Что рядом",
        datatype="multivaluelist",
        order=3,
        values=[{"key": "tram", "name": "Трамвай"}, {"key": "bus", "name": "Автобус"}],
    )
    RuleFactory(topic=topic, organisation=OrganisationFactory(name="Дорожное управление"))
    return topic


@pytest.fixture
def lighting():
    return TopicFactory(code="light-out", name="Не горит фонарь", block=BlockFactory(name="Освещение"))
