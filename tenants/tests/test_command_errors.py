"""create_tenant, create_user and otp_enroll: a bad argument is one CommandError sentence (no
traceback) and changes nothing; usernames follow Django's rules, as everywhere else."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db

NOT_UTF8 = "\udcff"  # how Python passes the argv byte 0xff (surrogateescape)


def _users() -> int:
    return get_user_model().objects.count()


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("u" * 300, "at most 150 characters"),
        ("", "cannot be blank"),
        ("bad user name!!", "Enter a valid username"),
        (NOT_UTF8, "username is not valid UTF-8"),
        ("a\x00b", "username contains the NUL character"),
    ],
)
def test_create_user_refuses_a_bad_username(tenant, username, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "create_user", "--tenant", "acme", username, "--no-input", stdout=io.StringIO()
        )
    assert _users() == 0
    assert not Membership.objects.exists()


def test_create_user_refuses_a_bad_email(tenant):
    with pytest.raises(CommandError, match="--email: Enter a valid email address"):
        call_command(
            "create_user", "--tenant", "acme", "bob", "--email", "nope", "--no-input",
            stdout=io.StringIO(),
        )  # fmt: skip
    assert _users() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([NOT_UTF8], "slug is not valid UTF-8"),
        (["a\x00b"], "slug contains the NUL character"),
        (["x" * 300], "slug: Use 1-64 lowercase letters"),
        (["ok", "--name", "A\x01B"], "--name contains a control character"),
        (["ok", "--name", "   "], "--name is blank; give a name"),  # was stored as "   "
        (["ok", "--name", "N" * 300], "--name: Ensure this value has at most 200 characters"),
        # The API's rule: "0/m" matched the model's pattern and was stored, then ignored.
        (["ok", "--rate-limit", "0/m"], "--rate-limit: Use .* with a count of at least 1"),
        (["ok", "--rate-limit", "5/x"], "--rate-limit: Use "),
    ],
)
def test_create_tenant_refuses_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_tenant", *args, stdout=io.StringIO())
    assert not Tenant.objects.exists()


def test_create_tenant_trims_the_name_as_the_api_does(db):
    call_command("create_tenant", "ok", "--name", "  Padded Name ", stdout=io.StringIO())
    assert Tenant.objects.get(slug="ok").name == "Padded Name"


def test_otp_enroll_refuses_bad_arguments(tenant):
    get_user_model().objects.create_user(username="ann")
    with pytest.raises(CommandError, match="username is not valid UTF-8"):
        call_command("otp_enroll", NOT_UTF8, stdout=io.StringIO())
    with pytest.raises(CommandError, match="--name: Ensure this value has at most 64"):
        call_command("otp_enroll", "ann", "--name", "n" * 100, stdout=io.StringIO())


def _enroll(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("otp_enroll", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_otp_enroll_again_needs_replace_which_ends_the_old_device(tenant):
    """Enrolling again (a lost phone) must not leave the old device's codes working."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.create_user(username="ann", is_staff=True)
    _enroll("ann")
    first = TOTPDevice.objects.get(user=user)
    with pytest.raises(CommandError, match="already has a TOTP device named 'authenticator'"):
        _enroll("ann")
    assert list(TOTPDevice.objects.filter(user=user)) == [first]

    out, err = _enroll("ann", "--replace")
    assert "Deleted 1 earlier TOTP device(s) of ann" in err
    new = TOTPDevice.objects.get(user=user)
    assert new.pk != first.pk
    assert out.strip().endswith(new.config_url)
    assert not TOTPDevice.objects.filter(pk=first.pk).exists()
    old_code = totp(first.bin_key, step=first.step, t0=first.t0, digits=first.digits)
    assert not any(d.verify_token(old_code) for d in TOTPDevice.objects.filter(user=user))

    _enroll("ann", "--name", "backup phone")  # another name adds a second device
    assert TOTPDevice.objects.filter(user=user).count() == 2


def _create_user(*args: str) -> str:
    out = io.StringIO()
    call_command("create_user", "--tenant", "acme", *args, "--no-input", stdout=out)
    return out.getvalue()


def test_create_user_again_keeps_the_role_unless_told_and_says_what_changed(tenant):
    """Running create_user for an existing owner (the default --role was member) demoted them
    without a word."""
    assert "Created user ann, owner of tenant acme" in _create_user("ann", "--role", "owner")
    out = _create_user("ann")
    assert "Existing user ann is owner of tenant acme (unchanged)." in out
    assert Membership.objects.get(user__username="ann").role == "owner"
    out = _create_user("ann", "--role", "admin", "--password", "a long sentence of a password")
    assert "Existing user ann is now admin of tenant acme (was owner); password changed." in out
    assert Membership.objects.get(user__username="ann").role == "admin"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "This password is too short"),
        ("password123", "This password is too common"),
        ("73849201937465", "This password is entirely numeric"),
    ],
)
def test_create_user_refuses_a_password_the_validators_refuse(tenant, password, message):
    with pytest.raises(CommandError, match=f"The password is refused: .*{message}"):
        _create_user("bob", "--password", password)
    assert _users() == 0


def test_otp_enroll_staff_after_enrolling_marks_staff_and_keeps_the_device(tenant):
    """Repro (fresh-clone review): enrolling without --staff printed "pass --staff to let them
    use /admin/"; doing so was refused ("already has a TOTP device ... Pass --replace"), i.e.
    marking the user as staff required enrolling the phone again."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.create_user(username="ann")
    _, err = _enroll("ann")
    assert "pass --staff" in err
    device = TOTPDevice.objects.get(user=user)
    out, _ = _enroll("ann", "--staff")
    assert out.strip() == (
        "Marked ann as staff; their TOTP device 'authenticator' is kept (its codes keep working)."
    )
    user.refresh_from_db()
    assert user.is_staff
    assert list(TOTPDevice.objects.filter(user=user)) == [device]
    with pytest.raises(CommandError, match="already has a TOTP device"):  # staff now: as before
        _enroll("ann", "--staff")
