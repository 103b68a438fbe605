"""The one-time code of ``POST /v1/auth/token`` (``SessionTokenObtainSerializer``): a user
with a confirmed TOTP device (``otp_enroll``) signs in with the password and a current code.
"""

from __future__ import annotations

import math
import time
from typing import Any

from rest_framework.exceptions import AuthenticationFailed


class WrongCode(AuthenticationFailed):
    """A code was sent and checked, and is no current code of the user's devices: a failed
    sign-in (``tenants.sign_in_limit`` counts it as it counts a wrong password)."""


def check_one_time_code(user: Any, code: str) -> None:
    """Nothing when ``user`` has no confirmed device or ``code`` is a current code of one, else
    the refusal: 401 (no code, a wrong one), or 429 with ``Retry-After`` while django-otp holds
    the devices back after wrong codes (a right code then was "wrong or has expired").
    A code that was checked and is wrong is a ``WrongCode`` (a failed sign-in); no code, and
    codes not checked while held back, are not.

    The devices are read locked (``for_verify``, as django-otp's admin form reads them), so
    two sign-ins racing with one code do not both pass (each read the device before the other
    recorded the code as used: a replayed code signed in twice). The refusal is raised once
    the transaction has committed the failed attempt that throttles the next one."""
    from django.db import transaction
    from django_otp import devices_for_user

    with transaction.atomic():
        devices = list(devices_for_user(user, confirmed=True, for_verify=True))
        if not devices:
            return
        if not code:
            raise AuthenticationFailed(
                "This account signs in with a one-time code: send `otp` with the current "
                "code of your authenticator app (as the admin asks for it)."
            )
        held_until, open_ = [], []
        for device in devices:
            allowed, why = device.verify_is_allowed()
            if allowed:
                open_.append(device)
            else:
                held_until.append((why or {}).get("locked_until"))
        # Only the device whose code it is verifies it: verifying it on each device in turn
        # recorded a failure on every device before the right one, so each sign-in with a
        # second device (otp_enroll --name) held the first back longer (1, 2, 4 ... s, up to
        # django-otp's 100 years). A code of none counts against each device it was tried on.
        missed = []
        for device in open_:
            if not _is_code_of(device, code):
                missed.append(device)
            elif device.verify_token(code):  # (records the code as used, or the failure)
                return
        for device in missed:
            device.throttle_increment()
    if open_:  # the code was checked: a failed sign-in
        raise WrongCode("The one-time code (`otp`) is wrong or has expired.")
    if None in held_until:
        raise AuthenticationFailed("The one-time code (`otp`) is wrong or has expired.")
    from django.utils import timezone

    from chatbot_project.errors import APIError

    wait = max(1, math.ceil((min(held_until) - timezone.now()).total_seconds()))
    raise APIError(
        "Too many wrong one-time codes for this account: codes are not checked for "
        f"{wait} s; retry then with a current one.",
        type="rate_limited",
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


def _is_code_of(device: Any, code: str) -> bool:
    """Whether ``code`` is a current, unused code of ``device``, with no side effect (a TOTP
    device's own check, ``TOTPDevice.verify_token``, without its recording). Other kinds of
    device: True, their own ``verify_token`` decides (and records)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not isinstance(device, TOTPDevice):
        return True
    try:
        token = int(code)
    except ValueError:
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return totp.verify(token, device.tolerance, device.last_t + 1)
