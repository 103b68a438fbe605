"""The Django admin only for staff who passed TOTP (django-otp's OTPAdminSite).

A staff user without a verified device sees the OTP login form and no data. ``otp_enroll``
creates a device and prints its provisioning URI and a terminal QR code.
"""

from django.contrib import admin
from django_otp.admin import OTPAdminSite


def configure_admin() -> None:
    admin.site.__class__ = OTPAdminSite
    admin.site.site_header = "Chatbot platform admin"
    admin.site.site_title = "Chatbot admin"
