from django.db import models
from django.utils.translation import gettext_lazy as _

# Alarms are rated on the scale the services subscribe by.
from tsur.notify.choices import Severity as Severity


class ObjectKind(models.TextChoices):
    BOILER_HOUSE = "boiler_house", _("Котельная")
    HEAT_POINT = "heat_point", _("Тепловой пункт")
    PUMPING_STATION = "pumping_station", _("Насосная станция")
    WATER_MAIN = "water_main", _("Участок водовода")
    SUBSTATION = "substation", _("Трансформаторная подстанция")
    LIGHTING_CABINET = "lighting_cabinet", _("Шкаф наружного освещения")
    CAMERA = "camera", _("Камера видеонаблюдения")


class RejectReason(models.TextChoices):
    UNKNOWN_DEVICE = "unknown_device", _("Неизвестное устройство")
    MALFORMED = "malformed", _("Нарушен формат")
    UNKNOWN_METRIC = "unknown_metric", _("Неизвестный показатель")
    WRONG_UNIT = "wrong_unit", _("Не та единица измерения")
    OUT_OF_RANGE = "out_of_range", _("Значение вне возможного диапазона")
    FUTURE = "future", _("Время из будущего")
    TOO_OLD = "too_old", _("Слишком старое показание")


class Condition(models.TextChoices):
    ABOVE = "above", _("выше порога")
    BELOW = "below", _("ниже порога")
    FLAG = "flag", _("флаг аварии контроллера")
    RATE = "rate", _("меняется быстрее порога (в единицах за минуту)")
    NO_DATA = "no_data", _("нет показаний дольше заданного")


class AlarmState(models.TextChoices):
    ACTIVE = "active", _("активна")
    ACKNOWLEDGED = "acknowledged", _("квитирована")
    CLEARED = "cleared", _("снята")


class OutageState(models.TextChoices):
    ACTIVE = "active", _("действует")
    ENDED = "ended", _("устранено")


class OutageEventKind(models.TextChoices):
    OPENED = "opened", _("открыто")
    APPEAL_LINKED = "appeal_linked", _("связано обращение")
    ANSWERED_ALL = "answered_all", _("промежуточный ответ всем")
    ENDED = "ended", _("устранено")


class Service(models.TextChoices):
    HEATING = "heating", _("отопление")
    HOT_WATER = "hot_water", _("горячая вода")
    COLD_WATER = "cold_water", _("холодная вода")
    ELECTRICITY = "electricity", _("электроснабжение")
    STREET_LIGHTING = "street_lighting", _("уличное освещение")


# What a failure of each kind of object leaves the buildings it serves without.
SERVICES_OF_KIND = {
    ObjectKind.BOILER_HOUSE: [Service.HEATING, Service.HOT_WATER],
    ObjectKind.HEAT_POINT: [Service.HEATING, Service.HOT_WATER],
    ObjectKind.PUMPING_STATION: [Service.COLD_WATER],
    ObjectKind.WATER_MAIN: [Service.COLD_WATER],
    ObjectKind.SUBSTATION: [Service.ELECTRICITY],
    ObjectKind.LIGHTING_CABINET: [Service.STREET_LIGHTING],
    ObjectKind.CAMERA: [],
}
# Rubricator topics residents file when a service is missing (codes of the default rubricator).
TOPICS_OF_SERVICE = {
    Service.HEATING: ["zhkh-no-heating", "zhkh-utility-quality"],
    Service.HOT_WATER: ["zhkh-no-water", "zhkh-utility-quality"],
    Service.COLD_WATER: ["zhkh-no-water", "zhkh-utility-quality"],
    Service.ELECTRICITY: ["zhkh-no-electricity"],
    Service.STREET_LIGHTING: ["blag-street-lighting"],
}
