"""The residents' side: signing in by e-mail (a one-time code, or a password once they set one) and
«мои обращения», the appeals they filed and those they joined.

Signing in by code is two pages: the e-mail (`ask_code`), kept in the session, then the code
(`enter_code`). Both answer the same whether or not an account exists for the e-mail; the account
is made at the first code that comes right (tsur.core.codes). Signed-in people are sent on to their
own place ("/")."""

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from tsur.appeals import actions
from tsur.appeals.models import Appeal, Follower
from tsur.core import accounts, codes
from tsur.core.errors import DomainError
from tsur.core.signin import client_address

from . import places
from .next_steps import next_step
from .resident_forms import CodeForm, EmailForm, ResidentPasswordForm

PAGE_SIZE = 20
SESSION_KEY = "resident_signin"  # {"email": ..., "next": ...} between the two pages of a code sign-in


def _next(request) -> str:
    """Where to go after signing in: the page that asked for it, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@never_cache
@require_http_methods(["GET", "POST"])
def ask_code(request):
    """The e-mail a code is sent to; the same answer for every address (no enumeration)."""
    if request.user.is_authenticated:
        return redirect("/")
    form = EmailForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            codes.send(email, client_address(request))
        except DomainError as error:
            form.add_error(None, error.message)
            status = error.status_code
        else:
            request.session[SESSION_KEY] = {"email": email, "next": _next(request)}
            return redirect("web:resident-code")
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "web/resident/ask_code.html",
        {"form": form, "next": _next(request), "section": "signin"},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def enter_code(request):
    if request.user.is_authenticated:
        return redirect("/")
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return redirect("web:resident-login")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = codes.redeem(pending["email"], form.cleaned_data["code"], client_address(request))
        except DomainError as error:
            form.add_error("code", error.message)
            status = error.status_code
        else:
            # the address is proved: what was filed under it without an account is theirs
            actions.claim(user, pending["email"])
            login(request, user)  # a new session key; the pending sign-in goes with the old data
            request.session.pop(SESSION_KEY, None)
            return redirect(pending.get("next") or "/")
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "web/resident/enter_code.html",
        {"form": form, "email": pending["email"], "next": pending.get("next", "/"), "section": "signin"},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def password_login(request):
    """E-mail and password, for residents who set one; locked out as staff sign-ins are."""
    if request.user.is_authenticated:
        return redirect("/")
    form = ResidentPasswordForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        return redirect(_next(request))
    return render(
        request,
        "web/resident/password_login.html",
        {"form": form, "next": _next(request), "section": "signin"},
    )


def require_resident(request) -> None:
    if not places.may_open(request.user, places.MY):
        raise PermissionDenied(_("Этот раздел — для жителей."))


@login_required(login_url="web:resident-login")
@require_GET
def my_appeals(request):
    """The appeals the resident filed and those they joined, newest first."""
    require_resident(request)
    user = request.user
    followed = Follower.objects.filter(user=user).values("appeal")
    found = (
        Appeal.objects.filter(Q(author=user) | Q(pk__in=followed))
        .select_related("topic", "merged_into")
        .order_by("-registered_at", "-pk")
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"appeal": a, "own": a.author_id == user.pk, "next": next_step(a, author=a.author_id == user.pk)}
        for a in page
    ]
    return render(
        request,
        "web/resident/my.html",
        {"section": "my", "page": page, "rows": rows, "has_password": user.has_usable_password()},
    )


@never_cache
@login_required(login_url="web:resident-login")
@require_http_methods(["GET", "POST"])
def set_password(request):
    """A password for signing in without a code: set anew, or changed with the old one."""
    require_resident(request)
    user = request.user
    form_class = PasswordChangeForm if user.has_usable_password() else SetPasswordForm
    form = form_class(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.set_password(user, form.cleaned_data["new_password1"])
        except DomainError as error:
            form.add_error("new_password1", error.message)
        else:
            update_session_auth_hash(request, user)  # this session stays signed in, the others end
            messages.success(request, _("Пароль сохранён: теперь можно входить по почте и паролю."))
            return redirect("web:my")
    return render(
        request,
        "web/resident/set_password.html",
        {"form": form, "section": "my", "changing": form_class is PasswordChangeForm},
    )
