"""A simulated city feed with known labels: residents' complaints as informal rewrites of real
appeals (the region's export, `TSUR["DEMO_DATA"]`), several posts per problem in different words and
networks; the everyday chatter of a city community, thanks and questions generated from templates;
and abuse and spam. Each post carries its label and, for complaints, the problem it is about — the
labelled set for the triage model's measurement and for the merge quality (`bench/social.py`).

Pure generation (a seeded random generator, no database): `tsur social_simulate` feeds it to the
fakes, the benchmark and the retrain command read it directly.
"""

import csv
import gzip
import random
import re
from dataclasses import dataclass
from pathlib import Path

from .choices import Label, Network

OPENERS = [
    "",
    "",
    "Народ, ",
    "Соседи, ",
    "Жесть. ",
    "Опять! ",
    "Доколе? ",
    "Админ, опубликуй пожалуйста. ",
    "Люди, ",
]
CLOSERS = [
    "",
    "",
    "!!!",
    " Когда уже это закончится?",
    " Куда смотрят власти?",
    " Сколько можно!",
    " Отметьте ЦУР кто-нибудь.",
    " Позор.",
    " #наболело",
    " 😡",
]
FILLERS = ["короче", "вообще", "уже", "опять", "блин", "как всегда", "в который раз"]
MASKS = re.compile(r"\[(?:x+|х+|phone|email)\]", re.IGNORECASE)
STREET = re.compile(
    r"(?P<street>[А-ЯЁ][\w-]+(?:\s[А-ЯЁ][\w-]+)?)\s(?:улица|проспект|переулок|шоссе|бульвар|набережная)"
    r"|(?:улица|проспект|переулок|шоссе|бульвар|набережная)\s(?P<street2>[А-ЯЁ][\w-]+(?:\s[А-ЯЁ][\w-]+)?)"
)
HOUSE = re.compile(r"дом\s(\d+)")

CHATTER = [
    "Кто-нибудь знает хорошего {master} в нашем районе? Посоветуйте",
    "Продам {thing}, состояние отличное, пишите в личку",
    "Отличный {event} вчера был в {place}, спасибо организаторам",
    "Потерялась {pet} в районе {street}, откликается на {name}, помогите найти",
    "Где в {district} районе вкусная {food}? Хочу заказать на выходные",
    "Какой красивый закат сегодня над {district}",
    "Ищу попутчиков до {city} на выходные",
    "Кто идёт на {event} в субботу в {place}?",
    "Отдам даром {thing}, самовывоз с {street}",
    "В {place} открыли новую {shop}, цены нормальные",
    "Ребята, сегодня в {place} {event}, приходите всей семьёй",
    "Нашла ключи у {street} {house}, заберите у консьержа",
]
QUESTIONS = [
    "Подскажите, когда на {street} {house} дадут горячую воду? Объявлений никаких нет",
    "Кто знает, когда откроют {facility} на {street}? Обещали ещё летом",
    "Когда уже начнут ремонт {facility} у {street} {house}?",
    "Почему на {street} до сих пор не включили освещение во дворе? Куда обращаться?",
]
THANKS = [
    "Спасибо {service} за оперативную работу, {done} за один день!",
    "Благодарю {service}, {done} — молодцы!",
    "Хочу сказать спасибо {service}: {done}, всё аккуратно",
]
ABUSE = [
    "Все чиновники {insult}, ничего не делают",
    "Админ {insult}, удали мой пост быстро",
    "Заработок от 5000 в день без вложений, пиши в лс",
    "Казино онлайн, промокод на бонус в профиле",
    "Ты {insult}, сам {insult}",
    "Ставки на спорт, надёжный букмекер, переходи по ссылке",
]
WORDS = {
    "master": ["сантехника", "электрика", "мастера по окнам", "репетитора по математике", "ветеринара"],
    "thing": ["велосипед", "детскую коляску", "диван", "холодильник", "зимнюю резину", "шкаф"],
    "event": ["концерт", "фестиваль", "субботник", "забег", "праздник двора", "ярмарку"],
    "place": ["парке", "ДК", "библиотеке", "торговом центре", "сквере", "школе №5"],
    "pet": ["кошка", "собака", "такса", "рыжая кошка"],
    "name": ["Мурку", "Бобика", "Рыжика", "Тошу"],
    "food": ["пицца", "шаурма", "выпечка", "пекарня"],
    "city": ["Пскова", "Выборга", "Москвы", "Великого Новгорода"],
    "shop": ["пекарню", "аптеку", "кофейню", "шиномонтажку"],
    "facility": ["бассейн", "поликлинику", "каток", "спортплощадку", "библиотеку"],
    "service": [
        "дворникам",
        "управляющей компании",
        "Жилкомсервису",
        "коммунальщикам",
        "администрации района",
    ],
    "done": ["убрали снег во дворе", "починили лифт", "заменили лампы в парадной", "вывезли мусор"],
    "insult": ["идиоты", "дебилы", "уроды"],
}


@dataclass(frozen=True)
class SimPost:
    text: str
    label: str
    network: str
    author: int
    problem: int | None = None  # the problem a complaint is about (the merge's truth); None otherwise
    hour: float = 0.0  # when in the simulated day
    appeal: int | None = None  # the export's row a complaint rewrites (a stricter truth)


def _short_place(row: dict) -> str:
    address = row.get("address") or ""
    found = STREET.search(address)
    house = HOUSE.search(address)
    street = (found.group("street") or found.group("street2")) if found else ""
    return " ".join(part for part in (street, house.group(1) if house else "") if part)


def read_appeals(path: Path, *, limit: int = 2000, seed: int = 7) -> list[dict]:
    """Appeals worth posting about: a text of a few words and an address that names a street."""
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = MASKS.sub("", row["text"]).strip()
            if 25 <= len(text) <= 400 and _short_place(row):
                rows.append({**row, "text": text})
            if len(rows) >= limit * 5:
                break
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def rewrite(row: dict, rnd: random.Random) -> str:
    """A resident's post about the appeal's problem: shorter, informal, with the place as people say it."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?\n])\s+", row["text"]) if s.strip()]
    keep = sentences[: rnd.randint(1, min(2, len(sentences)))]
    if len(keep) > 1 and rnd.random() < 0.3:
        keep.reverse()
    body = " ".join(keep)
    body = re.sub(r"\s+", " ", body)
    if rnd.random() < 0.5:
        body = body[0].lower() + body[1:]
    if rnd.random() < 0.4:
        words = body.split()
        words.insert(rnd.randint(0, len(words)), rnd.choice(FILLERS))
        body = " ".join(words)
    place = _short_place(row)
    where = rnd.choice([f"{place}: ", f"На {place} ", f"({place}) ", ""]) if rnd.random() < 0.9 else ""
    text = f"{rnd.choice(OPENERS)}{where}{body}{rnd.choice(CLOSERS)}"
    if where == "" and place:
        text += f" Адрес: {place}."
    return text.strip()


def _fill(template: str, rnd: random.Random, streets: list[str]) -> str:
    street = rnd.choice(streets) if streets else "Садовой"
    values = {key: rnd.choice(options) for key, options in WORDS.items()}
    values.update(
        street=street, house=str(rnd.randint(1, 60)), district=rnd.choice(["Купчино", "Озерках", "Колпино"])
    )
    return template.format(**values)


def feed(
    appeals: list[dict],
    *,
    posts: int,
    complaint_share: float = 0.08,
    question_share: float = 0.02,
    thanks_share: float = 0.03,
    abuse_share: float = 0.03,
    copies: tuple[int, int] = (1, 4),
    seed: int = 11,
) -> list[SimPost]:
    """`posts` posts of a simulated day in the order they appear; complaints come in groups of
    `copies` posts about one appeal from different residents and networks."""
    rnd = random.Random(seed)
    networks = [Network.VK, Network.VK, Network.TELEGRAM, Network.OK]
    streets = [p for p in (_short_place(r).rsplit(" ", 1)[0] for r in appeals) if p] or ["Садовой"]
    result: list[SimPost] = []
    # one problem: the same reason (the export's subcategory) at the same address — the export has
    # repeats of one problem filed by several residents, and those are one incident too
    problem_of: dict[tuple[str, str], int] = {}
    problems = iter(enumerate(appeals))
    while len(result) < posts:
        roll = rnd.random()
        hour = rnd.uniform(0, 24)
        if roll < complaint_share:
            try:
                row_index, row = next(problems)
            except StopIteration:
                problems = iter(enumerate(appeals))
                continue
            key = (row.get("address") or row["id"], row.get("subcategory") or row["text"])
            problem = problem_of.setdefault(key, len(problem_of))
            for _ in range(rnd.randint(*copies)):
                result.append(
                    SimPost(
                        rewrite(row, rnd),
                        Label.COMPLAINT,
                        rnd.choice(networks),
                        rnd.randint(1, 50_000),
                        problem,
                        min(24.0, hour + rnd.uniform(0, 3)),
                        row_index,
                    )
                )
            continue
        roll -= complaint_share
        if roll < question_share:
            kind, templates = Label.QUESTION, QUESTIONS
        elif roll < question_share + thanks_share:
            kind, templates = Label.THANKS, THANKS
        elif roll < question_share + thanks_share + abuse_share:
            kind, templates = Label.ABUSE, ABUSE
        else:
            kind, templates = Label.OTHER, CHATTER
        result.append(
            SimPost(
                _fill(rnd.choice(templates), rnd, streets),
                kind,
                rnd.choice(networks),
                rnd.randint(1, 50_000),
                None,
                hour,
            )
        )
    result = result[:posts]
    result.sort(key=lambda p: p.hour)
    return result
