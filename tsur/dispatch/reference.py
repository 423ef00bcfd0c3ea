"""The standard metrics of the region's controllers and the default alarm rules, created by
`ensure()` (idempotent: what an administrator changed afterwards stays as they left it)."""

from .choices import Condition, ObjectKind, Severity
from .models import AlarmRule, Metric

K = ObjectKind
# code: (name, unit, smallest possible, largest possible)
METRICS = {
    "t_supply": ("Температура подачи", "°C", -50, 200),
    "t_return": ("Температура обратки", "°C", -50, 200),
    "p_supply": ("Давление в подающем трубопроводе", "bar", 0, 40),
    "flow": ("Расход", "m3/h", 0, 20000),
    "voltage": ("Напряжение", "V", 0, 1000),
    "fault": ("Авария контроллера", "flag", 0, 1),
}
# (name, metric, condition, threshold, hold s, severity, kinds ("" = every kind), opens an outage)
RULES = [
    ("Авария контроллера", "fault", Condition.FLAG, 0, 0, Severity.CRITICAL, "", True),
    ("Низкая температура подачи", "t_supply", Condition.BELOW, 55, 300, Severity.CRITICAL, "", True),
    ("Быстрое падение температуры подачи", "t_supply", Condition.RATE, 1.5, 0, Severity.WARNING, "", False),
    ("Падение давления", "p_supply", Condition.BELOW, 2, 60, Severity.CRITICAL, "", True),
    ("Напряжение ниже нормы", "voltage", Condition.BELOW, 207, 60, Severity.CRITICAL, "", True),
    ("Напряжение выше нормы", "voltage", Condition.ABOVE, 253, 60, Severity.WARNING, "", False),
    ("Нет данных от контроллера", "fault", Condition.NO_DATA, 0, 600, Severity.WARNING, "", False),
]
# which metrics the controllers of each kind of object report
PROFILES = {
    K.BOILER_HOUSE: ["t_supply", "t_return", "p_supply", "fault"],
    K.HEAT_POINT: ["t_supply", "t_return", "p_supply", "fault"],
    K.PUMPING_STATION: ["p_supply", "flow", "fault"],
    K.WATER_MAIN: ["p_supply", "flow", "fault"],
    K.SUBSTATION: ["voltage", "fault"],
    K.LIGHTING_CABINET: ["voltage", "fault"],
    K.CAMERA: ["fault"],
}


def ensure() -> dict[str, Metric]:
    metrics = {}
    for code, (name, unit, low, high) in METRICS.items():
        metrics[code], _ = Metric.objects.get_or_create(
            code=code, defaults={"name": name, "unit": unit, "min_value": low, "max_value": high}
        )
    for name, metric, condition, threshold, hold, severity, kind, opens in RULES:
        AlarmRule.objects.get_or_create(
            name=name,
            defaults={
                "metric": metrics[metric],
                "condition": condition,
                "threshold": threshold,
                "hold_seconds": hold,
                "window_seconds": 600,
                "severity": severity,
                "object_kind": kind,
                "opens_outage": opens,
            },
        )
    return metrics
