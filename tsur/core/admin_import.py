"""The administrator's screen for importing reference data from CSV (the same importers as the command)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from .importers import IMPORTERS, ImportFailed

MAX_BYTES = 20 * 1024 * 1024
KIND_LABELS = {"territories": "Территории", "organisations": "Организации", "buildings": "Здания"}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="Что загружаем", choices=[(k, KIND_LABELS[k]) for k in IMPORTERS])
    file = forms.FileField(label="CSV-файл (UTF-8)")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("Файл больше 20 МБ.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError("Файл не в кодировке UTF-8.") from error


def import_view(request):
    if not request.user.is_active or not request.user.is_superuser:
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        try:
            count = IMPORTERS[kind](form.cleaned_data["file"])
        except ImportFailed as error:
            form.add_error("file", f"Импорт отменён, ничего не изменено: {error.message}")
        else:
            messages.success(request, f"{KIND_LABELS[kind]}: загружено строк — {count}.")
            return redirect(f"admin:core_{kind[:-1] if kind != 'territories' else 'territory'}_changelist")
    context = {**admin.site.each_context(request), "title": "Импорт справочников из CSV", "form": form}
    return TemplateResponse(request, "admin/core/import.html", context)
