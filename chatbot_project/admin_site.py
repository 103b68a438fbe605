"""The Django admin only for staff who passed TOTP (django-otp's OTPAdminSite).

A staff user without a verified device sees the OTP login form and no data. ``otp_enroll``
creates a device and prints its provisioning URI and a terminal QR code.

Sign-in attempts (POSTs to the login form) count against the same per-address limit as
``POST /v1/auth/token`` (``tenants.apis.count_sign_in``): the form checks the password before
the one-time code and says which of the two was wrong, so without a limit it was an unlimited
password oracle, and the password alone signs in to the REST API. Wrong passwords and wrong
one-time codes count per username too, at both doors, and a sign-in at either clears that
count (``tenants.sign_in_limit``).

``StrictJSONFormField`` is the form field of every JSON model field in our admins
(``ADMIN_FORMFIELD_OVERRIDES``): values the REST API refuses (``chatbot_project.jsonbody``)
are a form error there too.

Every admin page carries a Content-Security-Policy (``ADMIN_CONTENT_SECURITY_POLICY``): the
admin shows what tenants typed (bot names, document titles, messages) to operators, so a
markup bug there must not run script with a superuser's session. Django's admin has no inline
script (test_browser_admin_csp); styles keep ``'unsafe-inline'`` for other apps' widgets that
write style attributes.
"""

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.http import HttpResponse
from django.urls import path
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from chatbot_project import jsonbody
from chatbot_project.csp import content_security_policy

ADMIN_CONTENT_SECURITY_POLICY = content_security_policy(style_src="'self' 'unsafe-inline'")


def _with_csp(response: HttpResponse) -> HttpResponse:
    response.headers.setdefault("Content-Security-Policy", ADMIN_CONTENT_SECURITY_POLICY)
    return response


class StrictJSONFormField(forms.JSONField):
    """Django's JSON form field, refusing what PostgreSQL cannot store or Python cannot parse
    (NaN, Infinity, 1e999, the NUL character, unpaired surrogates: a DataError on save; deep
    nesting: a RecursionError): each was a 500 on the admin's change page."""

    def to_python(self, value):
        if isinstance(value, str) and value not in self.empty_values and not self.disabled:
            found = _problem(value)
            if found:
                raise ValidationError(found, code="invalid")
        return super().to_python(value)

    def bound_data(self, data, initial):
        if isinstance(data, str) and not self.disabled and _problem(data):
            return InvalidJSONInput(data)  # shown again as typed (parsed, it may not render)
        return super().bound_data(data, initial)


def _problem(text: str) -> str | None:
    if text.strip() == "":
        return None  # Django's field decides about blanks
    try:
        jsonbody.loads(text)
    except jsonbody.BadJSON as exc:
        message = str(exc)
        if message == jsonbody.NOT_JSON:
            return "Enter a valid JSON."
        message = message.replace(jsonbody.NOT_JSON[:-1], "Not valid JSON")
        return message.replace("The request body", "The JSON")
    return None


ADMIN_FORMFIELD_OVERRIDES = {models.JSONField: {"form_class": StrictJSONFormField}}


class AdminLoginForm(OTPAdminAuthenticationForm):
    """django-otp's admin login, taking the code of a user's only confirmed device without a
    device choice. django-otp 1.7 requires the choice (trying each device in turn would count
    failures against the others): its login answered a right code with "Please select a
    device." and a list, and the code had to be typed again. Several devices: asked, as before."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError as exc:
            # The password was wrong, or it was right and the code checked and wrong (as at
            # POST /v1/auth/token): counted (tenants.sign_in_limit). No code, no device, or
            # codes held back by django-otp (none checked) are not.
            wrong_code = self.user_cache is not None and exc.code == "invalid_token"
            if (self.user_cache is None or wrong_code) and self.request is not None:
                self.request.sign_in_failed = True
            raise

    def clean_otp(self, user):
        # Without a confirmed device no code can pass: django-otp asked for "your OTP token",
        # then to "select a device" from an empty list, never saying that there is none nor
        # how to get one. (Only after the right password of a staff account, which the form
        # already tells apart from a wrong one.)
        if user is not None and not any(devices_for_user(user, confirmed=True)):
            raise ValidationError(
                "This account has no authenticator app set up, so it cannot sign in here yet: "
                f"an operator runs `manage.py otp_enroll {user.get_username()} --staff` and "
                "you scan the QR code it prints.",
                code="no_device",
            )
        super().clean_otp(user)

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None and not self.cleaned_data.get("otp_device"):
            devices = list(devices_for_user(user, confirmed=True, for_verify=True))
            if len(devices) == 1:
                return devices[0]
        return device


# Admin pages that are no model's changelist (``add_app_page``), listed with an app's models.
_APP_PAGES: dict[str, list[Callable[[Any], dict | None]]] = {}
_PAGE_URLS: list[tuple[str, Callable, str]] = []


def add_app_page(
    app_label: str, entry: Callable[[Any], dict | None], *, route: str, view: Callable, name: str
) -> None:
    """An admin page at ``/admin/<app_label>/<route>`` (URL name ``admin:<name>``; ``view``
    wrapped as the admin's own: staff signed in with TOTP, under its policy), listed in that
    app's section of the admin index, app index and sidebar: ``entry(request)`` gives its row
    (``name``, ``object_name``, ``admin_url``, as Django's model rows), or None where the user
    may not see it. Call it before the admin's URLs are read (an app's admin module)."""
    _APP_PAGES.setdefault(app_label, []).append(entry)
    _PAGE_URLS.append((f"{app_label}/{route}", view, name))


class ChatbotAdminSite(OTPAdminSite):
    login_form = AdminLoginForm

    def get_urls(self):
        pages = [path(route, self.admin_view(view), name=name) for route, view, name in _PAGE_URLS]
        return [*pages, *super().get_urls()]

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            rows = [entry(request) for entry in _APP_PAGES.get(app["app_label"], ())]
            if any(rows):
                app["models"] = sorted(
                    app["models"] + [row for row in rows if row], key=lambda x: x["name"]
                )
        return app_list

    def admin_view(self, view, cacheable=False):
        """Every view the admin wraps (all but ``login``) answers under the admin's policy."""
        wrapped = super().admin_view(view, cacheable)

        @functools.wraps(wrapped)
        def with_policy(request, *args, **kwargs):
            return _with_csp(wrapped(request, *args, **kwargs))

        return with_policy

    def login(self, request, extra_context=None):
        return _with_csp(self._login(request, extra_context))

    def _login(self, request, extra_context=None):
        if request.method == "POST":
            from apikeys.ratelimit import headers_for
            from tenants.apis import count_sign_in

            decision = count_sign_in(request)
            if not decision.allowed:
                response = HttpResponse(
                    "Too many sign-in attempts from this address; retry in "
                    f"{decision.retry_after} s.",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                for name, value in headers_for(decision).items():
                    response[name] = value
                return response
            return self._counted_login(request, extra_context)
        return super().login(request, extra_context)

    def _counted_login(self, request, extra_context=None):
        """The form's answer, counted against the username's failed sign-ins (a wrong
        password or code: ``AdminLoginForm.clean``); refused while over their limit, cleared
        by a session issued (``_mark_signed_in``)."""
        from tenants import sign_in_limit

        attempt = sign_in_limit.take(request.POST.get("username"))
        if attempt.refused:
            response = HttpResponse(
                attempt.message(), status=429, content_type="text/plain; charset=utf-8"
            )
            for name, value in attempt.error().headers.items():
                response[name] = value
            return response
        try:
            response = super().login(request, extra_context)
        except BaseException:
            attempt.give_back()
            raise
        if getattr(request, "sign_in_failed", False):
            attempt.failed()
        elif getattr(request, "signed_in", False):  # a session issued: the count is cleared
            attempt.succeeded()
        else:
            attempt.give_back()
        return response


def _mark_signed_in(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: the login form's request issued a session (the form was
    valid: the password and the code right), for ``_counted_login``."""
    if request is not None:
        request.signed_in = True


def configure_admin() -> None:
    user_logged_in.connect(_mark_signed_in, dispatch_uid="chatbot_project.admin_signed_in")
    admin.site.__class__ = ChatbotAdminSite
    admin.site.site_header = "Chatbot platform admin"
    admin.site.site_title = "Chatbot admin"
