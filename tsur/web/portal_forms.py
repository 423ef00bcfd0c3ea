"""The citizen portal's forms: filing an appeal, joining one, looking one up by its number, and the
public map's query. They turn what a resident typed into the arguments of an action; the rules
(consent, the complaint book, photos) stay in the register, whose refusals come back next to the
field they name (`add_domain_error`)."""

import math
import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tsur.appeals import public
from tsur.appeals.models import ThematicBlock, Topic
from tsur.core.errors import DomainError
from tsur.core.models import Building

from .forms import PhotosField

NUMBER = re.compile(r"[\w-]{1,20}")
# the register's names for what the portal's form calls otherwise
FIELD_OF = {"author_name": "name", "author_email": "email", "author_phone": "phone", "longitude": "latitude"}


class ContactsForm(forms.Form):
    """How the center answers the resident, and their consent to the processing of these data."""

    name = forms.CharField(label=_("Как к вам обращаться"), required=False, max_length=200)
    email = forms.EmailField(label=_("Электронная почта"), required=False, max_length=254)
    phone = forms.CharField(
        label=_("Телефон"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    # the register refuses without it and says why; `required` only spares a round trip in a browser
    personal_data_consent = forms.BooleanField(
        label=_("Согласен(на) на обработку моих персональных данных"),
        required=False,
        widget=forms.CheckboxInput(attrs={"required": True, "aria-describedby": "consent-text"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        if user is not None and not self.is_bound:
            self.initial.setdefault("name", user.get_full_name())
            self.initial.setdefault("email", user.email)
            self.initial.setdefault("phone", getattr(user, "phone", ""))

    def add_domain_error(self, error: DomainError) -> None:
        field = FIELD_OF.get(error.field or "", error.field)
        self.add_error(field if field in self.fields else None, error.message)

    def contacts(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "email": data["email"],
            "phone": data["phone"],
            "personal_data_consent": data["personal_data_consent"],
        }


class AppealForm(ContactsForm):
    """A resident's appeal: what happened, where, photos, how to answer, consent."""

    field_order = [
        "text",
        "topic",
        "complaint_ticket_number",
        "address",
        "building",
        "latitude",
        "longitude",
        "photos",
        "name",
        "email",
        "phone",
        "personal_data_consent",
    ]

    text = forms.CharField(
        label=_("Опишите проблему"),
        max_length=settings.TSUR["TEXT_MAX_CHARS"],
        widget=forms.Textarea(attrs={"rows": 5, "aria-describedby": "text-hint"}),
    )
    # offered by the text model as one types (/suggest/topics/); empty: the center decides
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.filter(is_active=True).select_related("block"), required=False
    )
    complaint_ticket_number = forms.CharField(
        label=_("Номер заявки в управляющей организации"), required=False, max_length=64
    )
    address = forms.CharField(
        label=_("Адрес"),
        required=False,
        max_length=400,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "role": "combobox",
                "aria-autocomplete": "list",
                "aria-expanded": "false",
                "aria-controls": "address-options",
                "aria-describedby": "address-hint",
            }
        ),
    )
    building = forms.ModelChoiceField(
        queryset=Building.objects.all(), required=False, widget=forms.HiddenInput
    )
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    photos = PhotosField(
        label=_("Фото"),
        required=False,
        max_count=settings.TSUR["PORTAL_PHOTO_MAX_COUNT"],
    )
    # set by the page when it has shown the open appeals nearby for this text and place
    nearby_seen = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # one per form shown: a second send of the same form (a double click, a reload) is the same appeal
    submission = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        photos = self.fields["photos"]
        photos.widget.attrs.update({"aria-describedby": "photos-hint", "data-limit": photos.max_count})

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("latitude", _("Отметьте место на карте ещё раз."))
        return data

    @property
    def chosen_topic(self) -> Topic | None:
        if self.is_bound and hasattr(self, "cleaned_data"):
            return self.cleaned_data.get("topic")
        return None

    def arguments(self) -> dict:
        """The keyword arguments of actions.register for what was typed."""
        data = self.cleaned_data
        return {
            "text": data["text"],
            "topic": data["topic"],
            "complaint_ticket_number": data["complaint_ticket_number"].strip(),
            "address": data["address"],
            "building": data["building"],
            "latitude": data["latitude"],
            "longitude": data["longitude"],
            "photo_files": data.get("photos") or [],
            "author_name": data["name"],
            "author_email": data["email"],
            "author_phone": data["phone"],
            "personal_data_consent": data["personal_data_consent"],
            "external_id": data["submission"],
        }


class NearbyForm(forms.Form):
    """What the page sends to see open appeals like the one being written, before it is filed."""

    text = forms.CharField(max_length=settings.TSUR["TEXT_MAX_CHARS"])
    latitude = forms.FloatField(min_value=-90, max_value=90)
    longitude = forms.FloatField(min_value=-180, max_value=180)
    building = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class StatusForm(forms.Form):
    number = forms.CharField(label=_("Номер обращения"), max_length=20)

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if not NUMBER.fullmatch(number):
            raise forms.ValidationError(_("Номер состоит из цифр и дефиса, например 26-0001234."))
        return number


class MapQueryForm(forms.Form):
    """The public map's view: `bbox` as Leaflet writes it (west,south,east,north), the zoom, a block."""

    bbox = forms.CharField(max_length=200)
    zoom = forms.IntegerField(min_value=0, max_value=public.MAX_ZOOM)
    block = forms.ModelChoiceField(
        queryset=ThematicBlock.objects.filter(is_active=True), to_field_name="code", required=False
    )

    def clean_bbox(self):
        parts = self.cleaned_data["bbox"].split(",")
        try:
            west, south, east, north = (float(p) for p in parts)
        except ValueError as error:
            raise forms.ValidationError(
                _("bbox: четыре числа через запятую: запад, юг, восток, север.")
            ) from error
        if not all(math.isfinite(v) for v in (west, south, east, north)):
            raise forms.ValidationError(_("bbox: координаты должны быть числами."))
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise forms.ValidationError(_("bbox: юг меньше севера, запад меньше востока, в пределах карты."))
        return south, west, north, east

    def clean(self):
        data = super().clean()
        if "bbox" in data and "zoom" in data:
            south, west, north, east = data["bbox"]
            grid = public.Grid.at(data["zoom"], (south + north) / 2)
            if grid.cells_in(south, west, north, east) > public.MAX_CELLS:
                raise forms.ValidationError(_("Слишком большая область для этого масштаба."))
        return data
