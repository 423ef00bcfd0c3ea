"""The generated appeals' rows and timeline events as columns for tsur.demo.bulk: each event as the
action that takes the step writes it (kind, statuses, organisation, reason, data, public), see
tsur.appeals.actions."""

import json

import numpy as np

from tsur.appeals.choices import Channel, DeadlineState, EventKind, Status
from tsur.appeals.policies import CITIZEN_CHANNELS

from . import bulk
from .bulk import Fixed, Pooled, moments
from .timeline import CLOSE_HOW, STATUSES

# shares of the channels appeals arrive by (the portal and the app carry most of a region's flow)
CHANNELS = {
    Channel.PORTAL: 0.45,
    Channel.APP: 0.25,
    Channel.HOTLINE: 0.12,
    Channel.SOCIAL: 0.08,
    Channel.EMAIL: 0.04,
    Channel.OPEN311: 0.03,
    Channel.AGENCY: 0.02,
    Channel.MUNICIPALITY: 0.01,
}
NAMED = 0.7  # share of appeals whose author gave a name and a phone (the rest: anonymous, systems)
FIRST_NAMES = ("Анна", "Иван", "Мария", "Сергей", "Елена", "Алексей", "Ольга", "Дмитрий", "Наталья", "Павел")
LAST_NAMES = ("Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов")
QUESTIONS = (
    "Уточните, пожалуйста, номер подъезда и этаж.",
    "Приложите фото, чтобы мы могли найти место.",
    "Уточните точный адрес: номер дома и корпус.",
)
REPLIES = ("Второй подъезд, пятый этаж.", "Фото приложено.", "Дом 12, корпус 2, со стороны двора.")
REDIRECT_REASONS = ("Не относится к компетенции организации.", "Объект на балансе другой организации.")
EXTEND_REASONS = ("Требуется проведение работ подрядной организацией.", "Нужна комиссионная проверка.")
INTERIM_TEXTS = (
    "Работы включены в план, срок выполнения указан.",
    "Заявка передана подрядной организации, работы будут выполнены в плановую дату.",
)
REOPEN_REASONS = ("Проблема не решена.", "Работы не выполнены, всё по-прежнему.")
REJECT_REASONS = ("Не является обращением.", "Содержит нецензурные выражения.")
MODERATION_REASONS = ("Модель не уверена в теме", "Маршрут не надёжен")
AUTO_CLOSED = "Нет реакции заявителя"


def _j(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def iso(values: np.ndarray) -> np.ndarray:
    """Moments as the ISO strings the actions put in events' data (UTC)."""
    return np.char.add(np.datetime_as_string(values.astype("datetime64[us]"), unit="us"), "+00:00")


class Pools:
    """The texts events repeat: one list, each group at its offset."""

    def __init__(self, source):
        self.reasons = bulk.Lasting([""])
        self.at = {}
        for name, texts in (
            ("answer", source.answers),
            ("question", QUESTIONS),
            ("reply", REPLIES),
            ("redirect", REDIRECT_REASONS),
            ("extend", EXTEND_REASONS),
            ("interim", INTERIM_TEXTS),
            ("reopen", REOPEN_REASONS),
            ("reject", REJECT_REASONS),
            ("moderation", MODERATION_REASONS),
            ("auto_closed", (AUTO_CLOSED,)),
            ("overdue", ("Просрочено",)),
            ("soon", ("Срок истекает",)),
        ):
            self.at[name] = (len(self.reasons), len(texts))
            self.reasons.extend(texts)
        organisations = sorted(source.organisations.items())
        self.org_index = {pk: i for i, (pk, _) in enumerate(organisations)}
        self.org_lookup = np.zeros(max(source.organisations) + 1, dtype=np.int64)
        for pk, i in self.org_index.items():
            self.org_lookup[pk] = i
        for prefix, template in (("routed", "Модель: «{}»"), ("operator", "Назначено оператором: «{}»")):
            self.at[prefix] = (len(self.reasons), len(organisations))
            self.reasons.extend(template.format(name) for _, name in organisations)
        self.data = []
        self.data_at = {}
        self._data("empty", [{}])
        self._data("channel", [{"channel": str(c)} for c in CHANNELS])
        self._data(
            "understood",
            [{"model": "demo", "topic": {"code": c, "trusted": True}} for c in source.topic_code],
        )
        self._data(
            "understood_unsure",
            [{"model": "demo", "topic": {"code": c, "trusted": False}} for c in source.topic_code],
        )
        self._data(
            "automatic",
            [{"automatic": True, "path": "model", "p": round(0.95 + i / 1000, 4)} for i in range(50)],
        )
        self._data("on_time", [{"on_time": False}, {"on_time": True}])
        self._data("how", [{"how": str(h)} for h in CLOSE_HOW])
        self._data("rating", [{"rating": k} for k in range(1, 6)])
        self._data("repeat", [{"repeat": 1}])
        for because in ("overdue", "deadline_soon"):
            for deadline in ("first_response", "resolution"):
                self._data(
                    f"escalated:{because}:{deadline}",
                    [{"to": "supervisor", "because": because, "deadline": deadline}],
                )

    def _data(self, name, values):
        self.data_at[name] = len(self.data)
        self.data.extend(_j(v) for v in values)

    def reason(self, name: str, pick: np.ndarray | int = 0) -> np.ndarray:
        start, count = self.at[name]
        return start + np.asarray(pick) % max(count, 1)


class Emitter:
    """Events of a batch, collected step by step and written as columns, each appeal's in order."""

    STATUS = STATUSES
    KIND = list(EventKind.values)

    def __init__(self, n: int, pools: Pools):
        self.n, self.pools, self.parts, self.dynamic = n, pools, [], []

    def _take(self, value, idx, dtype=np.int64):
        value = np.asarray(value)
        return value[idx] if value.ndim else np.full(len(idx), value, dtype=dtype)

    def add(
        self,
        mask,
        at,
        kind,
        status_from,
        status_to,
        *,
        organisation=-1,
        actor=-1,
        reason=0,
        data=0,
        public=False,
    ):
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        code = lambda v: self._take(_status_codes(v), idx)  # noqa: E731
        self.parts.append(
            {
                "appeal": idx,
                "at": self._take(at, idx),
                "order": np.full(len(idx), len(self.parts)),
                "kind": np.full(len(idx), self.KIND.index(kind)),
                "status_from": code(status_from),
                "status_to": code(status_to),
                "organisation": self._take(organisation, idx),
                "actor": self._take(actor, idx),
                "reason": self._take(reason, idx),
                "data": self._take(data, idx),
                "public": np.full(len(idx), public),
            }
        )

    def data(self, values: list[str]) -> np.ndarray:
        """Per-event data (JSON text), as indices into the batch's pool."""
        start = len(self.pools.data) + len(self.dynamic)
        self.dynamic.extend(values)
        return np.arange(start, start + len(values))

    def columns(self, keys: np.ndarray) -> tuple[dict, int]:
        merged = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        order = np.lexsort((merged["order"], merged["at"], merged["appeal"]))
        m = {k: v[order] for k, v in merged.items()}
        columns = {
            "appeal_id": Fixed(keys[m["appeal"]]),
            "kind": Pooled(self.KIND, m["kind"]),
            "actor_id": Fixed(m["actor"], null=m["actor"] < 0),
            "at": moments(m["at"]),
            "status_from": Pooled(self.STATUS, m["status_from"]),
            "status_to": Pooled(self.STATUS, m["status_to"]),
            "organisation_id": Fixed(m["organisation"], null=m["organisation"] < 0),
            "reason": Pooled(self.pools.reasons, m["reason"]),
            "data": Pooled(self.pools.data + self.dynamic, m["data"]),
            "public": Fixed(m["public"].astype(bool)),
        }
        return columns, len(order)


def _status_codes(values) -> np.ndarray:
    """Statuses as indices of Emitter.STATUS: a status, or an array of codes from the timeline."""
    if isinstance(values, str):
        return np.asarray(Emitter.STATUS.index(values))
    return np.asarray(values)


def codes(values, pool: list) -> np.ndarray:
    unique, inverse = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    return np.array([pool.index(u) for u in unique], dtype=np.int64)[inverse]


def appeal_columns(gen, result, row, topic, channel, keys, numbers, registered) -> dict:
    s, a, rng, n = gen.source, result.appeal, gen.rng, len(registered)
    channels = list(CHANNELS)
    named = rng.random(n) < NAMED
    citizen = np.isin(channel, [channels.index(c) for c in CITIZEN_CHANNELS])
    hotline = channel == channels.index(Channel.HOTLINE)
    names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    phones = [
        f"+7 9{k // 10**7:02d} {k // 10**4 % 1000:03d}-{k % 10**4:04d}"
        for k in range(10**8, 10**9, 9 * 10**5)
    ]
    consent = np.where(named & citizen, 1, np.where(named & hotline, 2, 0))
    organisation = a["organisation"]
    org_i = gen.pools.org_lookup[np.maximum(organisation, 0)]
    routed = np.where(
        result.values["automatic"], gen.pools.reason("routed", org_i), gen.pools.reason("operator", org_i)
    )
    null = lambda v: v < 0  # noqa: E731
    return {
        "id": Fixed(keys),
        "number": Pooled(numbers, np.arange(n)),
        "channel": Pooled(channels, channel),
        "author_name": Pooled(["", *names], np.where(named, rng.integers(1, len(names) + 1, n), 0)),
        "author_phone": Pooled(["", *phones], np.where(named, rng.integers(1, len(phones) + 1, n), 0)),
        "consent_at": moments(registered, null=consent == 0),
        "consent_source": Pooled(["", "citizen", "operator"], consent),
        "text": Pooled(s.texts, s.text[row]),
        "address": Pooled(s.addresses, s.address[row]),
        "latitude": Fixed(s.latitude[row], null=np.isnan(s.latitude[row])),
        "longitude": Fixed(s.longitude[row], null=np.isnan(s.longitude[row])),
        "territory": Fixed(s.territory[row], null=null(s.territory[row])),
        "building": Fixed(s.building[row], null=null(s.building[row])),
        "place_kind": Pooled(s.kinds, s.kind[row]),
        "topic": Fixed(s.topic_pk[topic]),
        "organisation": Fixed(organisation, null=null(organisation)),
        "routing_reason": Pooled(gen.pools.reasons, np.where(null(organisation), 0, routed)),
        "priority": Pooled(s.priority, topic),
        "status": Pooled(STATUSES, a["status"]),
        "registered_at": moments(registered),
        "clock_started_at": moments(a["clock_started_at"]),
        "first_response_due": moments(a["first_response_due"]),
        "resolution_due": moments(a["resolution_due"]),
        "first_responded_at": moments(a["first_responded_at"], null(a["first_responded_at"])),
        "answered_at": moments(a["answered_at"], null(a["answered_at"])),
        "closed_at": moments(a["closed_at"], null(a["closed_at"])),
        "close_reason": Pooled(["", *(str(h) for h in CLOSE_HOW)], a["close_how"] + 1),
        "planned_at": moments(a["planned_at"], null(a["planned_at"])),
        "paused_since": moments(a["paused_since"], null(a["paused_since"])),
        "paused_seconds": Fixed(a["paused_seconds"]),
        "extension_reason": Pooled(["", EXTEND_REASONS[0]], a["extended"].astype(np.int64)),
        "deadline_state": Pooled(
            list(DeadlineState.values), codes(a["deadline_state"], list(DeadlineState.values))
        ),
        "reopen_count": Fixed(a["reopen_count"]),
        "rating": Fixed(a["rating"], null=null(a["rating"])),
        "rated_at": moments(a["rated_at"], null(a["rated_at"])),
        "updated_at": moments(np.full(n, gen.now)),
    }


def event_columns(gen, result, row, topic, channel, keys, registered) -> tuple[dict, int]:
    """Every event of the batch's appeals, as the actions write them."""
    p, v, h, st = gen.pools, result.values, result.happened, result.steps
    n = len(registered)
    e = Emitter(n, p)
    S, K = Status, EventKind
    automatic = v["automatic"]
    first_org, org = v["first_organisation"], result.appeal["organisation"]
    final_org = np.where(org >= 0, org, first_org)
    operator = gen.operator if gen.operator is not None else -1
    org_i = lambda o: p.org_lookup[np.maximum(o, 0)]  # noqa: E731
    pick = gen.rng.integers(0, 1 << 30, n)
    hotline = channel == list(CHANNELS).index(Channel.HOTLINE)
    all_ = np.ones(n, dtype=bool)

    e.add(all_, registered, K.REGISTERED, "", S.REGISTERED, data=p.data_at["channel"] + channel, public=True)
    trusted = np.where(automatic, p.data_at["understood"], p.data_at["understood_unsure"]) + topic
    e.add(~hotline, registered, K.UNDERSTOOD, "", S.REGISTERED, data=trusted)
    e.add(
        automatic,
        registered,
        K.ASSIGNED,
        S.REGISTERED,
        S.ASSIGNED,
        organisation=first_org,
        reason=p.reason("routed", org_i(first_org)),
        data=p.data_at["automatic"] + pick % 50,
        public=True,
    )
    e.add(
        ~automatic,
        registered,
        K.SENT_TO_MODERATION,
        S.REGISTERED,
        S.MODERATION,
        reason=p.reason("moderation", pick),
    )
    e.add(
        h["assigned"] & ~automatic,
        st["assigned"][0],
        K.ASSIGNED,
        S.MODERATION,
        S.ASSIGNED,
        organisation=first_org,
        actor=operator,
        reason=p.reason("operator", org_i(first_org)),
        public=True,
    )
    e.add(
        h["rejected"],
        st["rejected"][0],
        K.REJECTED,
        S.MODERATION,
        S.REJECTED,
        actor=operator,
        reason=p.reason("reject", pick),
        public=True,
    )
    e.add(h["taken1"], st["taken1"][0], K.TAKEN, S.ASSIGNED, S.IN_WORK, organisation=first_org, public=True)
    moved = h["redirected"]
    due_iso = iso(v["base_due"][moved]).tolist()  # the new organisation's deadline
    redirect_data = [
        f'{{"from_organisation": {a}, "to_organisation": {b}, "resolution_due": "{d}"}}'
        for a, b, d in zip(first_org[moved].tolist(), org[moved].tolist(), due_iso, strict=True)
    ]
    data = np.zeros(n, dtype=np.int64)
    data[moved] = e.data(redirect_data)
    e.add(
        moved,
        st["redirected"][0],
        K.REDIRECTED,
        S.IN_WORK,
        S.ASSIGNED,
        organisation=org,
        reason=p.reason("redirect", pick),
        data=data,
        public=True,
    )
    e.add(h["taken2"], st["taken2"][0], K.TAKEN, S.ASSIGNED, S.IN_WORK, organisation=org, public=True)
    e.add(
        h["clarified"],
        st["clarified"][0],
        K.CLARIFICATION_REQUESTED,
        S.IN_WORK,
        S.CLARIFICATION,
        organisation=final_org,
        reason=p.reason("question", pick),
        public=True,
    )
    replied = h["replied"]
    data = np.zeros(n, dtype=np.int64)
    data[replied] = e.data([f'{{"paused_seconds": {x}}}' for x in v["pause_s"][replied].tolist()])
    e.add(
        replied,
        st["replied"][0],
        K.CITIZEN_REPLIED,
        S.CLARIFICATION,
        S.IN_WORK,
        organisation=final_org,
        reason=p.reason("reply", pick),
        data=data,
        public=True,
    )
    extended = h["extended"]
    ext_at = st["extended"][0]
    data = np.zeros(n, dtype=np.int64)
    previous = iso(v["due_before"][extended])
    data[extended] = e.data(
        [
            f'{{"from": "{a}", "to": "{b}"}}'
            for a, b in zip(previous.tolist(), iso(v["extend_to"][extended]).tolist(), strict=True)
        ]
    )
    status_ext = v["status_at"](ext_at)
    e.add(
        extended,
        ext_at,
        K.EXTENDED,
        status_ext,
        status_ext,
        organisation=final_org,
        reason=p.reason("extend", pick),
        data=data,
        public=True,
    )
    e.add(
        h["interim"],
        st["interim"][0],
        K.INTERIM_ANSWER,
        S.IN_WORK,
        S.INTERIM,
        organisation=final_org,
        reason=p.reason("interim", pick),
        data=_planned(e, h["interim"], v["planned_at"]),
        public=True,
    )
    for name, deadline_of, because in (
        ("fr_overdue", None, "overdue"),
        ("soon", "resolution", "deadline_soon"),
        ("overdue", "resolution", "overdue"),
    ):
        mask, at = h[name], st[name][0]
        first = v["fr_which_first"] if deadline_of is None else np.zeros(n, dtype=bool)
        due = np.where(first, v["first_due"], v["due"])
        status = v["status_at"](at)
        data = np.zeros(n, dtype=np.int64)
        which = np.where(first, "first_response", "resolution")
        data[mask] = e.data(
            [
                f'{{"due": "{d}", "deadline": "{w}"}}'
                for d, w in zip(iso(due[mask]).tolist(), which[mask].tolist(), strict=True)
            ]
        )
        kind = K.DEADLINE_SOON if because == "deadline_soon" else K.OVERDUE
        e.add(mask, at, kind, status, status, organisation=final_org, data=data)
        escalated = np.where(
            first,
            p.data_at[f"escalated:{because}:first_response"],
            p.data_at[f"escalated:{because}:resolution"],
        )
        reason = p.reason("soon" if because == "deadline_soon" else "overdue")
        e.add(mask, at, K.ESCALATED, status, status, organisation=final_org, reason=reason, data=escalated)
    answer = gen.source.answer[row]
    answer = np.where(answer < 0, pick % len(gen.source.answers), answer)
    on_time = p.data_at["on_time"] + (st["answered"][0] <= v["due"])
    came_from = np.where(h["interim"], STATUSES.index(S.INTERIM), STATUSES.index(S.IN_WORK))
    e.add(
        h["answered"],
        st["answered"][0],
        K.ANSWERED,
        came_from,
        S.ANSWERED,
        organisation=final_org,
        reason=p.reason("answer", answer),
        data=on_time,
        public=True,
    )
    e.add(
        h["reopened"],
        st["reopened"][0],
        K.REOPENED,
        S.ANSWERED,
        S.IN_WORK,
        organisation=final_org,
        reason=p.reason("reopen", pick),
        data=p.data_at["repeat"],
        public=True,
    )
    e.add(
        h["answered2"],
        st["answered2"][0],
        K.ANSWERED,
        S.IN_WORK,
        S.ANSWERED,
        organisation=final_org,
        reason=p.reason("answer", answer + 1),
        data=p.data_at["on_time"] + 1,
        public=True,
    )
    how = v["close_how"]
    e.add(
        h["closed"],
        st["closed"][0],
        K.CLOSED,
        S.ANSWERED,
        S.CLOSED,
        organisation=final_org,
        reason=np.where(how == 2, p.reason("auto_closed"), 0),
        data=p.data_at["how"] + how,
        public=True,
    )
    rated_in = np.where(
        h["closed"] & (st["closed"][0] <= st["rated"][0]), *map(STATUSES.index, (S.CLOSED, S.ANSWERED))
    )
    e.add(
        h["rated"],
        st["rated"][0],
        K.RATED,
        rated_in,
        rated_in,
        organisation=final_org,
        data=p.data_at["rating"] + v["rating"] - 1,
    )
    return e.columns(keys)


def _planned(e: Emitter, mask, planned) -> np.ndarray:
    data = np.zeros(len(mask), dtype=np.int64)
    data[mask] = e.data([f'{{"planned_at": "{x}"}}' for x in iso(planned[mask]).tolist()])
    return data
