"""The Django admin only for staff who passed TOTP (django-otp's OTPAdminSite).

A staff user without a verified device sees the OTP login form and no data. ``otp_enroll``
creates a device and prints its provisioning URI and a terminal QR code.

Sign-in attempts (POSTs to the login form) count against the same per-address limit as
``POST /v1/auth/token`` (``tenants.apis.count_sign_in``): the form checks the password before
the one-time code and says which of the two was wrong, so without a limit it was an unlimited
password oracle, and the password alone signs in to the REST API.
"""

from django.contrib import admin
from django.http import HttpResponse
from django_otp.admin import OTPAdminSite


class ChatbotAdminSite(OTPAdminSite):
    def login(self, request, extra_context=None):
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
        return super().login(request, extra_context)


def configure_admin() -> None:
    admin.site.__class__ = ChatbotAdminSite
    admin.site.site_header = "Chatbot platform admin"
    admin.site.site_title = "Chatbot admin"
