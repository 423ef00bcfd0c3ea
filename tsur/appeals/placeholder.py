"""Whether an answer is an «отписка»: stock phrases that say the appeal went somewhere or was looked
at, with nothing a citizen can check — no work done, no finding, no date or term. A reviewer is
shown the reasons next to the answer; nothing is refused for them (a short «Мусор вывезен» may be
all the citizen needs).

`reasons(text)` is a pure function: the text in, the reasons in Russian out (empty: nothing to
remark). It reads words, not meaning, so it errs both ways now and then; that is why it only flags.
"""

import re

# Said in every answer and meaning nothing either way: cut before anything is looked for.
COURTESY = re.compile(
    r"уважаем\w*\s+(?:пользовател\w*|заявител\w*|гражданин\w*|житель\w*)"
    r"|рассмотрев\s+ваш\w*\s+(?:обращени\w*|сообщени\w*)"
    r"|(?:в\s+ответ\s+)?на\s+ваш\w*\s+(?:обращени\w*|сообщени\w*)"
    r"|сообщаем(?:\s+следующее)?|информируем|благодарим\s+за\s+(?:обращение|сообщение)"
    r"|приложени\w*\s*:[^.\n]*|фото\w*\s+прилага\w*|прилага\w*\s*:?[^.\n]*"
)
# References that carry digits without saying anything about the problem: the appeal's own number,
# the law on appeals.
REFERENCES = re.compile(
    r"(?:обращени\w*|сообщени\w*)\s*№?\s*[\d-]+"
    r"|(?:федеральн\w+\s+закон\w*\s+)?(?:от\s+\d{1,2}\.\d{1,2}\.\d{2,4}\s*(?:г\.?)?\s*)?№?\s*\d+-фз"
)
# What an «отписка» is made of, with the words a reviewer is shown.
STOCK = (
    (re.compile(r"(?:пере)?направлен\w*\s+(?:в|для|на|по)\b|переадресова\w*"), "«направлено в …»"),
    (re.compile(r"(?<!будет\s)(?<!будут\s)\bрассмотрен[оаы]?\b"), "«рассмотрено»"),
    (re.compile(r"принят\w*\s+к\s+сведению"), "«принято к сведению»"),
    (re.compile(r"буд(?:ет|ут)\s+(?:рассмотрен\w*|изучен\w*|проработан\w*)"), "«будет рассмотрено»"),
    (re.compile(r"в\s+рамках\s+(?:своей\s+|предоставленной\s+)?компетенци\w*"), "«в рамках компетенции»"),
    (
        re.compile(r"(?:взят\w*|поставлен\w*|остав\w*|находит\w*)\s+(?:\w+\s+)?на\s+контрол\w*"),
        "«на контроле»",
    ),
    (
        re.compile(r"буд(?:ет|ут)\s+приняты?\s+(?:\w+\s+)?мер\w*|мер\w*\s+буд(?:ет|ут)\s+принят\w*"),
        "«будут приняты меры»",
    ),
    (re.compile(r"в\s+установленн\w+\s+(?:порядке|сроки|срок)"), "«в установленном порядке»"),
    (re.compile(r"по\s+мере\s+(?:возможност\w*|финансировани\w*|поступлени\w*)"), "«по мере возможности»"),
    (re.compile(r"в\s+порядке\s+очередност\w*"), "«в порядке очерёдности»"),
    (re.compile(r"(?:дано|даны|выдано)\s+поручени\w*|поручено"), "«дано поручение»"),
)
# Something the citizen can check: work done, a finding, a refusal with its ground.
DONE = re.compile(
    r"\b(?:выполнен|устранен|убран|вывезен|отремонтирован|заменен|восстановлен|установлен|демонтирован"
    r"|проведен|произведен|очищен|закрашен|окрашен|покрашен|удален|ликвидирован|исправлен|отрегулирован"
    r"|засыпан|заделан|подключен|починен|обследован|составлен|наложен|привлечен|оштрафован|откачан"
    r"|прочищен|нанесен|посыпан|обработан|скошен|спилен|обрезан|эвакуирован|вынесен|выдан|отключен"
    r"|настроен|налажен|закрыт|смонтирован|уложен|залатан|вывешен|размещен|выявлен|обнаружен|приведен)\w*"
    # the same work told in the active voice: «демонтировал», «убрали»
    r"|\b(?:выполнил|устранил|убрал|вывез|отремонтировал|заменил|восстановил|установил|демонтировал|провел"
    r"|произвел|очистил|закрасил|покрасил|удалил|ликвидировал|исправил|починил|обследовал|откачал|прочистил"
    r"|спилил|эвакуировал|отключил|подключил|настроил|привел)\w*"
    r"|\bне\s+(?:подтвердил\w*|выявлен\w*|обнаружен\w*|нашл\w*\s+(?:своего\s+)?подтвержден\w*)"
    r"|\b(?:находит\w*\s+)?в\s+(?:нормативн|надлежащ|исправн)\w*\s+состояни\w*|\bработа(?:ет|ют)\b"
)
MONTHS = r"(?:январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*"
DATE = re.compile(
    rf"\b\d{{1,2}}\.\d{{1,2}}(?:\.\d{{2,4}})?\b|\b\d{{1,2}}\s+{MONTHS}|\b(?:до|в|к)\s+(?:конц\w+\s+)?{MONTHS}"
    r"|\b(?:19|20)\d{2}\b|\bв\s+течение\s+\d+|\b(?:сегодня|вчера|завтра)\b"
)
NUMBER = re.compile(r"\d")
PLACE = re.compile(
    r"\b(?:ул\.|улиц\w*|пр\.|просп\w*|пр-т|переул\w*|пер\.|наб\.|набережн\w*|шоссе|бульвар\w*|площад\w*"
    r"|д\.\s*\d|дом\w*|корп\w*|литер\w*|парадн\w*|подъезд\w*|двор\w*|этаж\w*|по\s+адресу)"
)
FUTURE = re.compile(r"\bбуд(?:ет|ут)\s+\w+|\bзапланирован\w*|\bпланиру\w+")
WORD = re.compile(r"[а-яa-z0-9]+")
SHORTEST = 3  # words, courtesy not counted: «Сделано», «Рассмотрено», «Проблема устранена»


def reasons(text: str) -> list[str]:
    """Why the answer looks like an «отписка» (an empty list when it does not)."""
    plain = (text or "").lower().replace("ё", "е")
    plain = REFERENCES.sub(" ", COURTESY.sub(" ", plain))
    found = []
    words = WORD.findall(plain)
    if len(words) < SHORTEST:
        found.append(f"Слишком короткий ответ: {len(words)} сл.")
    stock = [label for pattern, label in STOCK if pattern.search(plain)]
    rest = plain
    for pattern, _label in STOCK:  # «в установленном порядке» is no work «установлено»
        rest = pattern.sub(" ", rest)
    # a promise of work is not work done: «будут выполнены» must not count as «выполнены»
    done = DONE.search(FUTURE.sub(" ", rest)) is not None
    dated = DATE.search(rest) is not None
    if stock and not done and not dated:
        found.append(
            "Только общие фразы ("
            + ", ".join(stock)
            + "): не сказано, что сделано, что установлено при проверке или к какому сроку."
        )
    elif not stock and not done and not dated and not NUMBER.search(plain) and not PLACE.search(plain):
        found.append("Нет конкретики: ни сделанной работы, ни даты или срока, ни адреса, ни номера.")
    if FUTURE.search(plain) and not dated:
        found.append("Обещание без срока: сказано, что будет сделано, но не сказано когда.")
    return found
