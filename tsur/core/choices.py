from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Гражданин")
    OPERATOR = "operator", _("Оператор ЦУР")
    EXECUTOR = "executor", _("Исполнитель")
    SUPERVISOR = "supervisor", _("Руководитель организации")
    ANALYST = "analyst", _("Аналитик")
    LEADERSHIP = "leadership", _("Руководство")
    DISPATCHER = "dispatcher", _("Диспетчер ЕДДС")
    ADMINISTRATOR = "administrator", _("Администратор")
    # An information system of an agency or a municipality that files appeals through the API;
    # it sees the appeals it filed, nothing else.
    SYSTEM = "system", _("Информационная система")


class TerritoryKind(models.TextChoices):
    REGION = "region", _("Субъект РФ")
    MUNICIPAL_DISTRICT = "municipal_district", _("Муниципальный район")
    URBAN_OKRUG = "urban_okrug", _("Городской округ")
    CITY_DISTRICT = "city_district", _("Район города")
    MUNICIPAL_OKRUG = "municipal_okrug", _("Внутригородское муниципальное образование")
    SETTLEMENT = "settlement", _("Поселение")


class OrganisationKind(models.TextChoices):
    MINISTRY = "ministry", _("Орган исполнительной власти")
    MUNICIPAL_ADMINISTRATION = "municipal_administration", _("Администрация")
    AGENCY = "agency", _("Подведомственное учреждение")
    MANAGEMENT_COMPANY = "management_company", _("Управляющая организация")
    UTILITY = "utility", _("Ресурсоснабжающая организация")
    CONTRACTOR = "contractor", _("Подрядчик")
    CENTER = "center", _("Центр управления регионом")
    OTHER = "other", _("Другое")


class PlaceKind(models.TextChoices):
    BUILDING = "building", _("Дом")
    APARTMENT = "apartment", _("Квартира")
    YARD = "yard", _("Двор")
    STREET = "street", _("Улица")
    ROAD = "road", _("Дорога")
    PARK = "park", _("Парк, сквер")
    TERRITORY = "territory", _("Территория")
    STRUCTURE = "structure", _("Сооружение")
    BRIDGE = "bridge", _("Мост")
    ADVERTISING = "advertising", _("Рекламная конструкция")
    SOCIAL_FACILITY = "social_facility", _("Социальный объект")
    TRANSPORT_STOP = "transport_stop", _("Остановка")
    CONSTRUCTION_SITE = "construction_site", _("Строительная площадка")
    CEMETERY = "cemetery", _("Кладбище")
    OTHER = "other", _("Другое")
