"""The residents' forms: signing in by a code or a password, setting a password, and the author's
steps on their appeal. A step's form turns what the resident typed into its action's arguments."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from tsur.appeals.choices import CloseReason
from tsur.core import accounts
from tsur.core.errors import DomainError
from tsur.core.forms import LockoutMixin


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Электронная почта"),
        max_length=accounts.EMAIL_MAX,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self):
        try:
            return accounts.normalise_email(self.cleaned_data["email"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from error


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Код из письма"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ResidentPasswordForm(LockoutMixin, AuthenticationForm):
    """E-mail and password; the e-mail is turned into the resident's username before Django's check
    (and the lockout's, which counts under the same name as the codes do)."""

    username = forms.EmailField(
        label=_("Электронная почта"),
        max_length=accounts.EMAIL_MAX,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Неверная почта или пароль."),
    }

    def clean_username(self):
        try:
            email = accounts.normalise_email(self.cleaned_data["username"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        return accounts.signin_name(email)


# ------------------------------------------------------------------ the author's steps


class AuthorStepForm(forms.Form):
    def arguments(self) -> dict:
        return dict(self.cleaned_data)


class TextForm(AuthorStepForm):
    text = forms.CharField(label=_("Текст"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(TextForm):
    text = forms.CharField(
        label=_("Ваш ответ на вопрос"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CommentForm(TextForm):
    text = forms.CharField(
        label=_("Дополнение к обращению"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Его увидят исполнитель и оператор ЦУР."),
    )


RATINGS = [
    (5, _("5 — отлично, проблема решена")),
    (4, _("4 — хорошо")),
    (3, _("3 — удовлетворительно")),
    (2, _("2 — плохо")),
    (1, _("1 — ничего не сделано")),
]


class RateForm(AuthorStepForm):
    rating = forms.TypedChoiceField(
        label=_("Ваша оценка ответа"), choices=RATINGS, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Отзыв (необязательно)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConfirmForm(AuthorStepForm):
    def arguments(self):
        return {"how": CloseReason.SATISFIED}


class ReopenForm(AuthorStepForm):
    reason = forms.CharField(
        label=_("Что не сделано"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
