import factory

from tsur.social.choices import Network
from tsur.social.models import Source, WatchList


class WatchListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WatchList

    name = factory.Sequence(lambda n: f"Город {n}")
    keywords = factory.LazyFunction(lambda: ["мусор", "яма"])
    minus_words = factory.LazyFunction(lambda: ["продам"])


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    watchlist = factory.SubFactory(WatchListFactory)
    network = Network.VK
    name = factory.Sequence(lambda n: f"Сообщество {n}")
    token_env = "TSUR_TEST_SOCIAL_TOKEN"
    requests_per_second = 1000
