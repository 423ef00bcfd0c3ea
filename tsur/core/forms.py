"""Sign-in forms that say why an attempt is refused when the account or the address is locked out."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from . import signin


class LockoutMixin:
    """Checks the lockout before the password: `LockoutBackend` would refuse anyway, but with the
    generic «wrong password» message, which would send the person guessing further."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and self.cleaned_data.get("password"):
            wait = signin.retry_after(username, signin.client_address(self.request))
            if wait is not None:
                raise ValidationError(signin.refusal(wait), code="locked_out")
        return super().clean()


class SignInForm(LockoutMixin, AuthenticationForm):
    pass


class AdminSignInForm(LockoutMixin, AdminAuthenticationForm):
    pass
