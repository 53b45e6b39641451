"""The rules of the identity domain. Functions take the session first and the rest by
keyword; they flush but never commit (the caller owns the transaction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from xingdong.core import security
from xingdong.core.audit import record_audit
from xingdong.core.clock import utcnow
from xingdong.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from xingdong.core.i18n import N_, SUPPORTED_LOCALES
from xingdong.core.ids import new_id
from xingdong.core.jobs import defer_in_transaction
from xingdong.core.pagination import CursorPage, clamp_limit, next_cursor
from xingdong.core.policy import Action, Actor, OrgRole, StaffRole, require
from xingdong.core.ratelimit import RateLimits
from xingdong.core.settings import Settings
from xingdong.core.sms import SmsSender
from xingdong.core.text import CONTROL_CHARACTERS, has_control_characters
from xingdong.identity import repository as repo
from xingdong.identity.errors import (
    AccountFrozen,
    AccountLocked,
    AlreadyMember,
    HandleAlreadyBound,
    InvalidCode,
    InvalidCredentials,
    InvitationNotPending,
    LastOwner,
    OrganisationNameTaken,
    PasswordWrong,
    PersonErased,
    PhoneAlreadyRegistered,
    SessionExpired,
)
from xingdong.identity.models import (
    ApiToken,
    Consent,
    Invitation,
    Membership,
    Organisation,
    Person,
    PlatformAccount,
    SmsCode,
    WebSession,
)
from xingdong.identity.validation import (
    INTERESTS,
    MAX_INTERESTS,
    REGIONS,
    handle_problem,
    mask_phone,
    normalise_phone,
    password_problem,
    phone_error,
)
from xingdong.platforms.connector import answered_in_time, get_connector

SMS_PURPOSES = ("register", "reset")


def _phone_taken() -> PhoneAlreadyRegistered:
    return PhoneAlreadyRegistered(
        detail=N_("This phone number is already registered. Sign in instead."),
        fields=[FieldError("phone", N_("This phone number is already registered."))],
    )


def _require_phone(raw: str, field: str = "phone") -> str:
    phone, error = phone_error(raw, field)
    if error:
        raise ValidationFailed(detail=error.message, fields=[error])
    assert phone is not None
    return phone


# --- one-time codes -------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCode:
    phone: str
    expires_at: datetime
    code: str | None
    """The code itself, only when the ``sms_reveal_codes`` setting is on (demo)."""


async def request_sms_code(
    session: AsyncSession,
    *,
    phone: str,
    purpose: str,
    settings: Settings,
    sender: SmsSender,
    limits: RateLimits,
    ip: str,
) -> IssuedCode:
    if purpose not in SMS_PURPOSES:
        raise ValidationFailed(
            detail=N_("Unknown code purpose."),
            fields=[FieldError("purpose", N_("Unknown code purpose."))],
        )
    normalised = _require_phone(phone)
    if purpose == "register" and await repo.person_by_phone(session, normalised):
        raise _phone_taken()
    await limits.hit(settings.rate_limit_sms_phone, "sms-phone", normalised)
    await limits.hit(settings.rate_limit_sms_ip, "sms-ip", ip)
    expires_at = utcnow() + timedelta(seconds=settings.sms_code_ttl_seconds)
    if purpose == "reset":
        holder = await repo.person_by_phone(session, normalised)
        if holder is None or not holder.is_active or holder.erased_at is not None:
            # The same answer as for an account, so that the form cannot be used to
            # learn which numbers have one; nothing is sent.
            return IssuedCode(phone=normalised, expires_at=expires_at, code=None)
    code = security.new_numeric_code()
    secret = settings.secret_key.get_secret_value()
    row = SmsCode(
        phone=normalised,
        purpose=purpose,
        code_digest=security.keyed_digest(secret, f"{normalised}:{purpose}:{code}"),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    # Delete the code soon after it expires: a stored code is useless once expired.
    await defer_in_transaction(
        session,
        "identity:purge_expired_sms_codes",
        scheduled_at=expires_at + timedelta(seconds=1),
        queueing_lock=None,
    )
    await sender.send(phone=normalised, text=f"【星动】验证码 {code}，5 分钟内有效。")
    return IssuedCode(
        phone=normalised, expires_at=expires_at, code=code if settings.sms_reveal_codes else None
    )


def _wrong_code() -> InvalidCode:
    return InvalidCode(
        detail=N_("The verification code is wrong or has expired. Request a new one."),
        fields=[FieldError("code", N_("Wrong or expired code."), "invalid_code")],
    )


def _code_form_errors(phone: str, code: str, password: str) -> tuple[str | None, list[FieldError]]:
    """The number (normalised) and what is wrong with a form that sends a number, the code
    sent to it and a new password (registering, resetting a password)."""
    errors: list[FieldError] = []
    normalised, phone_problem = phone_error(phone)
    if phone_problem:
        errors.append(phone_problem)
    weak = password_problem(password, normalised)
    if weak:
        errors.append(FieldError("password", weak, "weak_password"))
    if not code.strip():
        errors.append(FieldError("code", N_("Enter the code we sent you."), "missing_code"))
    return normalised, errors


async def _consume_sms_code(
    session: AsyncSession, *, phone: str, purpose: str, code: str, settings: Settings
) -> None:
    row = await repo.latest_sms_code(session, phone, purpose)
    wrong = _wrong_code()
    if row is None or row.expires_at <= utcnow() or row.attempts >= settings.sms_code_max_attempts:
        raise wrong
    row.attempts += 1
    secret = settings.secret_key.get_secret_value()
    expected = security.keyed_digest(secret, f"{phone}:{purpose}:{code.strip()}")
    if not security.digests_match(expected, row.code_digest):
        await session.flush()
        raise wrong
    row.consumed_at = utcnow()


# --- registration and sign-in ---------------------------------------------------------


def _new_display_name_errors(name: str) -> list[FieldError]:
    """What is wrong with the (trimmed) name a new account is given; empty is allowed
    (the account is then called 用户 and the number's last four digits)."""
    if len(name) > 40:
        return [FieldError("display_name", N_("Use at most 40 characters."))]
    if has_control_characters(name):
        return [FieldError("display_name", CONTROL_CHARACTERS)]
    return []


async def register_person(
    session: AsyncSession,
    *,
    phone: str,
    code: str,
    password: str,
    display_name: str | None,
    settings: Settings,
    screen: Callable[[UUID, str], Awaitable[object]] | None = None,
) -> Person:
    """A new account from a phone number and its SMS code. ``screen`` (the risk check)
    is given the new person's id and number before anything is created, and refuses by
    raising."""
    normalised, errors = _code_form_errors(phone, code, password)
    name = (display_name or "").strip()
    errors += _new_display_name_errors(name)
    if errors:
        raise ValidationFailed(detail=N_("Please correct the marked fields."), fields=errors)
    assert normalised is not None
    if await repo.person_by_phone(session, normalised):
        raise _phone_taken()
    await _consume_sms_code(
        session, phone=normalised, purpose="register", code=code, settings=settings
    )
    person_id = new_id()
    if screen is not None:
        await screen(person_id, normalised)
    person = Person(
        id=person_id,
        phone=normalised,
        password_hash=security.hash_password(password),
        display_name=name or "用户" + normalised[-4:],
    )
    if not await repo.insert_person(session, person):
        raise _phone_taken()
    created = await repo.person_by_id(session, person.id)
    assert created is not None
    return created


def _account_stopped() -> AccountFrozen:
    return AccountFrozen(
        detail=N_(
            "This account is stopped and cannot sign in. If you think this is a mistake, "
            "contact support."
        )
    )


async def reset_password(
    session: AsyncSession, *, phone: str, code: str, password: str, settings: Settings
) -> Person:
    """A new password for the account of ``phone``, with the code sent to it (忘记密码).
    The account is signed out everywhere (its sessions end and its API tokens stop
    working) and failed sign-ins are forgotten. A number with no active account is
    answered as a wrong code is, so the form tells nobody which numbers have one."""
    normalised, errors = _code_form_errors(phone, code, password)
    if errors:
        raise ValidationFailed(detail=N_("Please correct the marked fields."), fields=errors)
    assert normalised is not None
    await _consume_sms_code(
        session, phone=normalised, purpose="reset", code=code, settings=settings
    )
    person = await repo.person_by_phone(session, normalised)
    if person is None:
        raise _wrong_code()
    return await _set_password(
        session, person.id, password, action="identity.password_reset", active_only=True
    )


async def _set_password(
    session: AsyncSession, person_id: UUID, password: str, *, action: str, active_only: bool
) -> Person:
    """The new password, on the person's locked row: failed sign-ins forgotten, every
    session and API token of the account ended, written to the audit log as ``action``.
    ``active_only``: a frozen account is refused (a reset by code)."""
    locked = await repo.person_by_id(session, person_id, lock=True)
    assert locked is not None
    if active_only and not locked.is_active:
        raise _account_stopped()
    locked.password_hash = security.hash_password(password)
    locked.failed_login_count = 0
    locked.locked_until = None
    ended = await repo.end_sessions_and_tokens(session, locked.id, now=utcnow())
    await record_audit(
        session, actor_id=locked.id, action=action, object_type="person",
        object_id=locked.id, data={"signed_out": ended},
    )  # fmt: skip
    await session.flush()
    return locked


async def change_password(
    session: AsyncSession,
    *,
    person: Person,
    password: str,
    new_password: str,
    settings: Settings,
    limits: RateLimits,
) -> Person:
    """A new password, given the current one (counted like a sign-in when wrong). Every
    session and API token of the account ends, so a device someone else holds is signed
    out; the caller opens a fresh one for the person who changed it."""
    weak = password_problem(new_password, person.phone)
    if weak:
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("new_password", weak, "weak_password")],
        )
    await confirm_password(
        session, person=person, password=password, settings=settings, limits=limits
    )
    return await _set_password(
        session, person.id, new_password, action="identity.password_changed", active_only=False
    )


def refuse_while_locked(person: Person, now: datetime) -> None:
    """Refuse a password check while failed ones keep the account locked."""
    if person.locked_until and person.locked_until > now:
        raise AccountLocked(
            detail=N_("Too many failed sign-ins. Try again in {seconds} seconds."),
            extra={"seconds": int((person.locked_until - now).total_seconds()) + 1},
        )


async def count_failed_sign_in(session: AsyncSession, person: Person, settings: Settings) -> None:
    """A wrong password: counted, and the account locked for longer each time past the
    limit."""
    await repo.count_failed_login(
        session,
        person.id,
        max_failures=settings.login_max_failures,
        base_s=settings.login_lockout_base_seconds,
        max_s=settings.login_lockout_max_seconds,
    )


async def confirm_password(
    session: AsyncSession, *, person: Person, password: str, settings: Settings, limits: RateLimits
) -> None:
    """The person's password once more, before something that cannot be undone (erasing
    the account, closing an organisation)."""
    await limits.hit(settings.rate_limit_login, "login-phone", person.phone)
    refuse_while_locked(person, utcnow())
    if not security.verify_password(person.password_hash, password):
        # Counted as failed sign-ins are: a stolen session cannot guess here either.
        await count_failed_sign_in(session, person, settings)
        raise PasswordWrong(
            detail=N_("The password is wrong."),
            fields=[FieldError("password", N_("The password is wrong."))],
        )


def _refuse_blank_sign_in(phone: str, password: str) -> None:
    """What an incomplete sign-in lacks, beside each empty field. Such a request is no
    wrong password: it is answered before any attempt is counted against the number or
    the address."""
    fields: list[FieldError] = []
    if not phone.strip():
        fields.append(FieldError("phone", N_("Enter your phone number."), "missing_phone"))
    if not password:
        fields.append(FieldError("password", N_("Enter your password."), "missing_password"))
    if fields:
        raise ValidationFailed(detail=N_("Please correct the marked fields."), fields=fields)


async def authenticate(
    session: AsyncSession,
    *,
    phone: str,
    password: str,
    settings: Settings,
    limits: RateLimits,
    ip: str,
) -> Person:
    _refuse_blank_sign_in(phone, password)
    normalised = normalise_phone(phone) or phone.strip()
    await limits.hit(settings.rate_limit_login, "login-ip", ip)
    await limits.hit(settings.rate_limit_login, "login-phone", normalised)
    person = await repo.person_by_phone(session, normalised)
    if person is not None and person.erased_at is not None:
        # An erased account's placeholder is nobody's sign-in name.
        person = None
    now = utcnow()
    if person is not None:
        refuse_while_locked(person, now)
    password_ok = security.verify_password(person.password_hash if person else None, password)
    if person is None or not password_ok:
        if person is not None:
            await count_failed_sign_in(session, person, settings)
        raise InvalidCredentials(detail=N_("Wrong phone number or password."))
    if not person.is_active:
        # Only someone who knows the password learns it: they are told where to turn,
        # instead of trying passwords or a reset that cannot help.
        raise _account_stopped()
    person.failed_login_count = 0
    person.locked_until = None
    person.last_login_at = now
    if security.password_needs_rehash(person.password_hash):
        person.password_hash = security.hash_password(password)
    await session.flush()
    return person


async def open_web_session(
    session: AsyncSession,
    *,
    person: Person,
    settings: Settings,
    ip: str | None,
    user_agent: str | None,
) -> str:
    token = security.new_token()
    session.add(
        WebSession(
            token_digest=security.token_digest(token),
            person_id=person.id,
            expires_at=utcnow() + timedelta(hours=settings.session_ttl_hours),
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    await session.flush()
    return token


async def person_for_web_session(session: AsyncSession, *, token: str) -> Person:
    row = await repo.web_session_by_digest(session, security.token_digest(token))
    if row is None or row.expires_at <= utcnow():
        raise SessionExpired(detail=N_("Your session has expired; please sign in again."))
    person = await repo.person_by_id(session, row.person_id)
    if person is None or not person.is_active:
        raise SessionExpired(detail=N_("Your session has expired; please sign in again."))
    return person


async def require_active(session: AsyncSession, *, person_id: UUID) -> None:
    """Hold the person's row for the rest of the transaction and refuse an account that
    is no longer active. Whatever adds to an account (a claim, a bound account, an accepted
    invitation) calls this first, so that an erasure under way waits for it or it for the
    erasure, and never misses it (identity/erasure.py)."""
    if not await repo.hold_active(session, person_id):
        raise SessionExpired(detail=N_("Your session has expired; please sign in again."))


async def close_web_session(session: AsyncSession, *, token: str) -> None:
    await repo.delete_web_session(session, security.token_digest(token))


async def issue_api_token(
    session: AsyncSession, *, person: Person, name: str, settings: Settings
) -> tuple[str, ApiToken]:
    token = security.new_token()
    row = ApiToken(
        token_digest=security.token_digest(token),
        person_id=person.id,
        name=name[:60] or "api",
        expires_at=utcnow() + timedelta(days=settings.api_token_ttl_days),
    )
    session.add(row)
    await session.flush()
    return token, row


async def person_for_api_token(session: AsyncSession, *, token: str) -> tuple[Person, ApiToken]:
    found = await repo.api_token_with_person(session, security.token_digest(token))
    if found is None:
        raise SessionExpired(detail=N_("The token is not valid or has expired."))
    row, person = found
    if row.revoked_at is not None or row.expires_at <= utcnow() or not person.is_active:
        raise SessionExpired(detail=N_("The token is not valid or has expired."))
    return person, row


async def revoke_api_token(session: AsyncSession, *, token_row: ApiToken) -> None:
    token_row.revoked_at = utcnow()
    await session.flush()


async def display_names(session: AsyncSession, person_ids: Iterable[UUID]) -> dict[UUID, str]:
    """People's display names by id, for lists that say who did something."""
    return await repo.display_names(session, set(person_ids))


async def actor_for(session: AsyncSession, *, person: Person) -> Actor:
    roles = await repo.staff_roles(session, person.id)
    memberships = await repo.memberships_of(session, person.id)
    return Actor(
        person_id=person.id,
        staff_roles=frozenset(StaffRole(role) for role in roles),
        memberships={org_id: OrgRole(role) for org_id, role in memberships.items()},
    )


# --- profile, consent, platform accounts ----------------------------------------------


@dataclass(frozen=True)
class ProfileChanges:
    display_name: str | None = None
    birth_year: int | None = None
    region: str | None = None
    interests: list[str] | None = None
    locale: str | None = None
    clear_birth_year: bool = False


def _profile_errors(changes: ProfileChanges, this_year: int) -> list[FieldError]:
    errors: list[FieldError] = []
    if changes.display_name is not None and not 1 <= len(changes.display_name.strip()) <= 40:
        errors.append(FieldError("display_name", N_("Use 1 to 40 characters.")))
    elif changes.display_name is not None and has_control_characters(changes.display_name.strip()):
        errors.append(FieldError("display_name", CONTROL_CHARACTERS))
    if changes.birth_year is not None and not (this_year - 100 <= changes.birth_year <= this_year):
        errors.append(
            FieldError("birth_year", N_("Enter a year between {low} and {high}."), "out_of_range")
        )
    if changes.region and changes.region not in REGIONS:
        errors.append(FieldError("region", N_("Choose a region from the list.")))
    if changes.interests is not None:
        if any(i not in INTERESTS for i in changes.interests):
            errors.append(FieldError("interests", N_("Choose interests from the list.")))
        elif len(set(changes.interests)) > MAX_INTERESTS:
            errors.append(FieldError("interests", N_("Choose at most 8 interests.")))
    if changes.locale and changes.locale not in SUPPORTED_LOCALES:
        errors.append(FieldError("locale", N_("Choose a language from the list.")))
    return errors


async def update_profile(
    session: AsyncSession,
    *,
    actor: Actor,
    person_id: UUID,
    changes: ProfileChanges,
    adult_age: int = 18,
) -> Person:
    """Change one's profile. A birth year that makes the person younger than
    ``adult_age`` (the age for paid tasks) is not changed on the page into an adult's:
    a minor shut out of paid tasks would only have to type another year. Support
    corrects a mistyped one."""
    require(actor, Action.PERSON_EDIT, person_id=person_id)
    person = await repo.person_by_id(session, person_id)
    if person is None:
        raise NotFound(detail=N_("No such person."))
    this_year = utcnow().year
    errors = _profile_errors(changes, this_year)
    was_minor = person.birth_year is not None and this_year - person.birth_year < adult_age
    grown_up = changes.clear_birth_year or (
        changes.birth_year is not None and this_year - changes.birth_year >= adult_age
    )
    if was_minor and grown_up:
        errors.append(
            FieldError(
                "birth_year",
                N_("The birth year you gave makes you a minor; to correct it, contact support."),
                "birth_year_locked",
            )
        )
    if errors:
        # The range is said only for the birth year (its message names it).
        years = any(e.field == "birth_year" for e in errors)
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=errors,
            extra={"low": this_year - 100, "high": this_year} if years else {},
        )
    if changes.display_name is not None:
        person.display_name = changes.display_name.strip()
    if changes.birth_year is not None:
        person.birth_year = changes.birth_year
    elif changes.clear_birth_year:
        person.birth_year = None
    if changes.region is not None:
        person.region = changes.region or None
    if changes.interests is not None:
        person.interests = sorted(set(changes.interests), key=list(INTERESTS).index)
    if changes.locale is not None:
        person.locale = changes.locale or None
    await session.flush()
    return person


def age_in(person: Person, year: int) -> int | None:
    return None if person.birth_year is None else year - person.birth_year


async def accept_agreement(
    session: AsyncSession,
    *,
    person: Person,
    version: str,
    settings: Settings,
    ip: str | None,
    user_agent: str | None,
) -> bool:
    """Record consent to the current agreement; False when it was already recorded."""
    await require_active(session, person_id=person.id)
    if version != settings.agreement_version:
        raise ValidationFailed(
            detail=N_("This is not the current version of the agreement; reload the page."),
            fields=[FieldError("version", N_("Not the current version."))],
        )
    return await repo.insert_consent(
        session,
        Consent(
            id=new_id(),
            person_id=person.id,
            agreement_version=version,
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        ),
    )


async def has_current_consent(session: AsyncSession, *, person: Person, settings: Settings) -> bool:
    return await repo.consent_exists(session, person.id, settings.agreement_version)


async def consents(session: AsyncSession, *, person: Person) -> list[Consent]:
    return await repo.consents_of(session, person.id)


@dataclass(frozen=True)
class BoundAccount:
    platform: str
    handle: str
    followers: int


async def accounts_and_consent(
    session: AsyncSession, *, person: Person, settings: Settings
) -> tuple[list[BoundAccount], bool]:
    """Bound accounts and whether the current agreement is accepted, in one query."""
    rows, consented = await repo.accounts_and_consent(
        session, person.id, settings.agreement_version
    )
    accounts = [BoundAccount(r["platform"], r["handle"], int(r["followers"])) for r in rows]
    return sorted(accounts, key=lambda a: a.platform), consented


async def platform_accounts(session: AsyncSession, *, person: Person) -> list[PlatformAccount]:
    return await repo.platform_accounts_of(session, person.id)


async def bind_platform_account(
    session: AsyncSession, *, person: Person, platform: str, handle: str, followers: int
) -> PlatformAccount:
    connector = get_connector(platform)
    await require_active(session, person_id=person.id)
    handle = handle.strip().lstrip("@")
    errors: list[FieldError] = []
    problem = handle_problem(handle)
    if problem:
        errors.append(FieldError("handle", problem))
    if followers < 0 or followers > 10**9:
        errors.append(FieldError("followers", N_("Enter a number from 0 to 1,000,000,000.")))
    if errors:
        raise ValidationFailed(detail=N_("Please correct the marked fields."), fields=errors)
    existing = await repo.platform_account_by_handle(session, platform, handle)
    if existing is not None and existing.person_id != person.id:
        raise HandleAlreadyBound(
            detail=N_("This account is already bound by someone else."),
            fields=[FieldError("handle", N_("Already bound by someone else."))],
        )
    info = await answered_in_time(
        platform,
        connector.describe_account(handle, declared_followers=followers, claimant=str(person.id)),
    )
    await repo.delete_platform_account(session, person.id, platform)
    account = PlatformAccount(
        person_id=person.id, platform=platform, handle=info.handle, followers=info.followers
    )
    session.add(account)
    await session.flush()
    return account


async def unbind_platform_account(session: AsyncSession, *, person: Person, platform: str) -> None:
    if not await repo.delete_platform_account(session, person.id, platform):
        raise NotFound(detail=N_("No account is bound on this platform."))


# --- organisations --------------------------------------------------------------------


def _name_key(name: str) -> str:
    """An organisation's name as compared for sameness: case and runs of spaces aside."""
    return " ".join(name.split()).casefold()


async def create_organisation(
    session: AsyncSession, *, actor: Actor, kind: str, name: str
) -> Organisation:
    """A new organisation with the actor as its owner. Its name must differ from those of
    the actor's other open organisations (a second press of the form, or two brands one
    cannot tell apart in the list, is refused with ``organisation_name_taken``)."""
    errors: list[FieldError] = []
    name = name.strip()
    if kind not in ("brand", "agency"):
        errors.append(FieldError("kind", N_("Choose brand or agency.")))
    if not 2 <= len(name) <= 80:
        errors.append(FieldError("name", N_("Use 2 to 80 characters.")))
    elif has_control_characters(name):
        errors.append(FieldError("name", CONTROL_CHARACTERS))
    if errors:
        raise ValidationFailed(detail=N_("Please correct the marked fields."), fields=errors)
    # One person's creations one at a time: a form sent twice makes one organisation.
    await repo.lock_person(session, actor.person_id)
    if _name_key(name) in {
        _name_key(n) for n in await repo.open_organisation_names(session, actor.person_id)
    }:
        raise OrganisationNameTaken(
            detail=N_(
                "You already have an organisation named “{name}”: open it from your "
                "organisations, or choose another name."
            ),
            fields=[FieldError("name", N_("You already have an organisation of this name."))],
            extra={"name": name},
        )
    org = Organisation(id=new_id(), kind=kind, name=name, created_by=actor.person_id)
    session.add(org)
    await session.flush()
    session.add(Membership(org_id=org.id, person_id=actor.person_id, role=OrgRole.OWNER))
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="identity.organisation_created",
        object_type="organisation",
        object_id=org.id,
        data={"kind": kind, "name": name},
    )
    await session.flush()
    return org


async def my_organisations(
    session: AsyncSession,
    *,
    actor: Actor,
    search: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[tuple[Organisation, str]]:
    size = clamp_limit(limit)
    rows = await repo.organisations_page(
        session, person_id=actor.person_id, search=search, cursor=cursor, limit=size
    )
    return CursorPage(items=rows[:size], next_cursor=next_cursor([o for o, _ in rows], size))


async def get_organisation(session: AsyncSession, *, actor: Actor, org_id: UUID) -> Organisation:
    require(actor, Action.ORG_READ, org_id=org_id)
    org = await session.get(Organisation, org_id)
    if org is None:
        raise NotFound(detail=N_("No such organisation."))
    return org


async def organisation_members(
    session: AsyncSession,
    *,
    actor: Actor,
    org_id: UUID,
    search: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[tuple[Membership, Person]]:
    require(actor, Action.ORG_READ, org_id=org_id)
    size = clamp_limit(limit)
    rows = await repo.members_page(session, org_id=org_id, search=search, cursor=cursor, limit=size)
    cursor_rows = [_MemberCursor(m.created_at, m.person_id) for m, _ in rows]
    return CursorPage(items=rows[:size], next_cursor=next_cursor(cursor_rows, size))


@dataclass(frozen=True)
class _MemberCursor:
    created_at: datetime
    id: UUID


async def invite_member(
    session: AsyncSession, *, actor: Actor, org_id: UUID, phone: str, role: str
) -> Invitation:
    require(actor, Action.ORG_MANAGE_MEMBERS, org_id=org_id)
    normalised = _require_phone(phone)
    if role not in (OrgRole.OWNER, OrgRole.MEMBER):
        raise ValidationFailed(
            detail=N_("Choose owner or member."),
            fields=[FieldError("role", N_("Choose owner or member."))],
        )
    await repo.hold_open_organisation(session, org_id)
    invitee = await repo.person_by_phone(session, normalised)
    if invitee is not None and await repo.membership(session, org_id, invitee.id):
        raise AlreadyMember(
            detail=N_("This person is already a member."),
            fields=[FieldError("phone", N_("Already a member."))],
        )
    invitation = Invitation(
        id=new_id(), org_id=org_id, phone=normalised, role=role, invited_by=actor.person_id
    )
    if not await repo.insert_invitation(session, invitation):
        raise AlreadyMember(
            detail=N_("An invitation to this number is already waiting for an answer."),
            fields=[FieldError("phone", N_("Already invited."))],
        )
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="identity.member_invited",
        object_type="organisation",
        object_id=org_id,
        # Masked: the invitation row holds the number, and erasure can clear a row, never
        # the log.
        data={"invitation": str(invitation.id), "phone": mask_phone(normalised), "role": role},
    )
    await session.flush()
    row = await session.get(Invitation, invitation.id)
    assert row is not None
    return row


async def pending_invitations(
    session: AsyncSession, *, actor: Actor, org_id: UUID
) -> list[Invitation]:
    require(actor, Action.ORG_READ, org_id=org_id)
    return await repo.pending_invitations_of_org(session, org_id)


async def my_invitations(
    session: AsyncSession, *, person: Person
) -> list[tuple[Invitation, Organisation]]:
    invitations = await repo.pending_invitations_for_phone(session, person.phone)
    result = []
    for invitation in invitations:
        org = await session.get(Organisation, invitation.org_id)
        if org is not None:
            result.append((invitation, org))
    return result


async def answer_invitation(
    session: AsyncSession, *, person: Person, invitation_id: UUID, accept: bool
) -> Invitation:
    await require_active(session, person_id=person.id)
    if accept:
        # The organisation is held before the invitation's row, the order closing it
        # takes them in.
        org_id = await repo.invitation_org(session, invitation_id)
        if org_id is not None:
            await repo.hold_open_organisation(session, org_id)
    invitation = await repo.invitation_for_update(session, invitation_id)
    if invitation is None or invitation.phone != person.phone:
        raise NotFound(detail=N_("No such invitation."))
    if invitation.status != "pending":
        raise _not_pending(invitation)
    invitation.status = "accepted" if accept else "declined"
    invitation.responded_at = utcnow()
    if accept and await repo.membership(session, invitation.org_id, person.id) is None:
        session.add(Membership(org_id=invitation.org_id, person_id=person.id, role=invitation.role))
    await record_audit(
        session,
        actor_id=person.id,
        action="identity.invitation_" + invitation.status,
        object_type="organisation",
        object_id=invitation.org_id,
        data={"invitation": str(invitation.id)},
    )
    await session.flush()
    return invitation


async def revoke_invitation(
    session: AsyncSession, *, actor: Actor, org_id: UUID, invitation_id: UUID
) -> None:
    require(actor, Action.ORG_MANAGE_MEMBERS, org_id=org_id)
    invitation = await repo.invitation_for_update(session, invitation_id)
    if invitation is None or invitation.org_id != org_id:
        raise NotFound(detail=N_("No such invitation."))
    if invitation.status != "pending":
        raise _not_pending(invitation)
    invitation.status = "revoked"
    invitation.responded_at = utcnow()
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="identity.invitation_revoked",
        object_type="organisation",
        object_id=org_id,
        data={"invitation": str(invitation.id)},
    )
    await session.flush()


_NOT_PENDING = {
    "accepted": N_("This invitation has already been accepted."),
    "declined": N_("This invitation has already been declined."),
    "revoked": N_("The organisation has withdrawn this invitation."),
}


def _not_pending(invitation: Invitation) -> InvitationNotPending:
    """Says what became of the invitation: someone answering one the organisation has
    withdrawn in the meantime should not read that they answered it."""
    return InvitationNotPending(
        detail=_NOT_PENDING[invitation.status],
        extra={"invitation_status": invitation.status},
    )


async def owners_of(session: AsyncSession, org_id: UUID) -> list[UUID]:
    """The organisation's owners (read only, in id order)."""
    return await repo.lock_owners(session, org_id, lock=False)


async def change_member_role(
    session: AsyncSession, *, actor: Actor, org_id: UUID, person_id: UUID, role: str
) -> Membership:
    require(actor, Action.ORG_MANAGE_MEMBERS, org_id=org_id)
    if role not in (OrgRole.OWNER, OrgRole.MEMBER):
        raise ValidationFailed(
            detail=N_("Choose owner or member."),
            fields=[FieldError("role", N_("Choose owner or member."))],
        )
    owners = await repo.lock_owners(session, org_id)
    member = await repo.membership(session, org_id, person_id)
    if member is None:
        raise NotFound(detail=N_("This person is not a member."))
    if member.role == OrgRole.OWNER and role != OrgRole.OWNER and owners == [person_id]:
        raise LastOwner(
            detail=N_(
                "An organisation needs at least one owner: make another member an owner first."
            )
        )
    previous = member.role
    member.role = role
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="identity.member_role_changed",
        object_type="organisation",
        object_id=org_id,
        data={"person": str(person_id), "from": previous, "to": role},
    )
    await session.flush()
    return member


async def remove_member(
    session: AsyncSession, *, actor: Actor, org_id: UUID, person_id: UUID
) -> None:
    leaving_by_choice = (
        person_id == actor.person_id and org_id in actor.memberships and actor.api_key_id is None
    )
    if not leaving_by_choice:
        require(actor, Action.ORG_MANAGE_MEMBERS, org_id=org_id)
    owners = await repo.lock_owners(session, org_id)
    member = await repo.membership(session, org_id, person_id)
    if member is None:
        raise NotFound(detail=N_("This person is not a member."))
    if member.role == OrgRole.OWNER and owners == [person_id]:
        raise LastOwner(
            detail=N_("You are the only owner: make another member an owner before you leave.")
            if leaving_by_choice
            else N_("An organisation needs at least one owner: make another member an owner first.")
        )
    await session.delete(member)
    revoked = await repo.revoke_keys_made_by(
        session, person_id=person_id, org_id=org_id, now=utcnow(), by=actor.person_id
    )
    await record_audit(
        session,
        actor_id=actor.person_id,
        action="identity.member_removed",
        object_type="organisation",
        object_id=org_id,
        data={"person": str(person_id), "api_keys_revoked": revoked},
    )
    await session.flush()


# --- staff ----------------------------------------------------------------------------


async def create_person_directly(
    session: AsyncSession, *, phone: str, password: str, display_name: str
) -> Person:
    """Create an account without an SMS code: for operators at the command line and for
    seeding the demo."""
    normalised = _require_phone(phone)
    weak = password_problem(password, normalised)
    if weak:
        raise ValidationFailed(detail=weak, fields=[FieldError("password", weak)])
    name = display_name.strip()
    wrong = _new_display_name_errors(name)
    if wrong:
        # Refused, not cut to fit: the command line shows no form to correct it in.
        raise ValidationFailed(detail=wrong[0].message, fields=wrong)
    person = Person(
        id=new_id(),
        phone=normalised,
        password_hash=security.hash_password(password),
        display_name=name or "用户" + normalised[-4:],
    )
    if not await repo.insert_person(session, person):
        raise _phone_taken()
    created = await repo.person_by_id(session, person.id)
    assert created is not None
    return created


async def grant_staff_role(
    session: AsyncSession, *, phone: str, role: str, granted_by: Actor | None
) -> bool:
    """Grant a staff role; ``granted_by`` None means the command line (trusted)."""
    if granted_by is not None:
        require(granted_by, Action.STAFF_GRANT)
    if role not in {r.value for r in StaffRole}:
        raise ValidationFailed(detail=N_("Role must be reviewer, operator or admin."))
    person = await repo.person_by_phone(session, _require_phone(phone))
    if person is None:
        raise NotFound(detail=N_("No account has this phone number."))
    added = await repo.upsert_staff_grant(
        session, person.id, role, granted_by.person_id if granted_by else None
    )
    await record_audit(
        session,
        actor_id=granted_by.person_id if granted_by else None,
        action="identity.staff_granted",
        object_type="person",
        object_id=person.id,
        data={"role": role, "new": added},
    )
    return added


async def revoke_staff_role(
    session: AsyncSession, *, phone: str, role: str, revoked_by: Actor | None
) -> bool:
    if revoked_by is not None:
        require(revoked_by, Action.STAFF_GRANT)
    person = await repo.person_by_phone(session, _require_phone(phone))
    if person is None:
        raise NotFound(detail=N_("No account has this phone number."))
    removed = await repo.delete_staff_grant(session, person.id, role)
    await record_audit(
        session,
        actor_id=revoked_by.person_id if revoked_by else None,
        action="identity.staff_revoked",
        object_type="person",
        object_id=person.id,
        data={"role": role, "was_held": removed},
    )
    return removed


async def search_people(
    session: AsyncSession,
    *,
    actor: Actor,
    search: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> CursorPage[Person]:
    require(actor, Action.STAFF_CONSOLE)
    size = clamp_limit(limit)
    rows = await repo.people_page(session, search=search, cursor=cursor, limit=size)
    return CursorPage.cut(rows, size)


async def purge_expired_sms_codes(session: AsyncSession) -> int:
    return await repo.delete_expired_sms_codes(session, utcnow())


async def purge_expired_sign_ins(
    session: AsyncSession, *, now: datetime | None = None
) -> tuple[int, int]:
    """Forget expired browser sessions and API tokens; returns how many of each."""
    return await repo.delete_expired_sign_ins(session, now or utcnow())


async def get_person(session: AsyncSession, *, actor: Actor, person_id: UUID) -> Person:
    require(actor, Action.PERSON_READ, person_id=person_id)
    person = await repo.person_by_id(session, person_id)
    if person is None:
        raise NotFound(detail=N_("No such person."))
    return person


async def audience_size(
    session: AsyncSession,
    *,
    platform: str,
    birth_years: tuple[int | None, int | None],
    regions: list[str],
    interests: list[str],
    tiers: list[str],
) -> int:
    """How many people with an account bound on ``platform`` match this targeting (born
    within ``birth_years``, inclusive; in one of ``regions``; sharing an interest; with
    that account in one of ``tiers``); empty lists match anyone. For a brand's "why is it
    slow" hint, not for eligibility."""
    return await repo.count_audience(
        session, platform=platform, birth_years=birth_years, regions=regions,
        interests=interests, tiers=tiers,
    )  # fmt: skip


FREEZE_REASON_MAX = 500


async def _operator_change(
    session: AsyncSession, actor: Actor, person_id: UUID, why: str
) -> tuple[Person, str]:
    """The person an operator freezes or unfreezes, their row locked, and the reason given
    (required, at most ``FREEZE_REASON_MAX`` characters)."""
    require(actor, Action.STAFF_CONSOLE)
    clean = operator_reason(why)
    person = await repo.person_by_id(session, person_id, lock=True)
    if person is None:
        raise NotFound(detail=N_("No such person."))
    return person, clean


def operator_reason(why: str) -> str:
    """An operator's reason for changing an account, as the audit log keeps it: spaces
    folded, required, at most ``FREEZE_REASON_MAX`` characters."""
    clean = " ".join(why.split())
    if not clean:
        raise ValidationFailed(
            detail=N_("Say why in the note."),
            fields=[FieldError("why", N_("Say why, for the audit log."))],
        )
    if len(clean) > FREEZE_REASON_MAX:
        raise ValidationFailed(
            detail=N_("Please correct the marked fields."),
            fields=[FieldError("why", N_("Keep it to 500 characters."))],
        )
    return clean


async def freeze_account(session: AsyncSession, *, actor: Actor, person_id: UUID, why: str) -> bool:
    """An operator stops an account from the person's page: it can no longer sign in and
    its sessions and tokens stop working; its work and money stay as they are (a risk
    case confirmed as fraud undoes unsettled work too). Not one's own account, and a staff
    account only by an admin. True when it was active."""
    _person, clean = await _operator_change(session, actor, person_id, why)
    if person_id == actor.person_id:
        raise Forbidden(detail=N_("You cannot freeze your own account."))
    if await repo.staff_roles(session, person_id) and StaffRole.ADMIN not in actor.staff_roles:
        raise Forbidden(detail=N_("Only an admin can freeze a staff account."))
    return await freeze_person(session, actor=actor, person_id=person_id, why=clean)


async def unfreeze_account(
    session: AsyncSession, *, actor: Actor, person_id: UUID, why: str
) -> bool:
    """Let a frozen account sign in again (operators), with the reason in the audit log.
    An erased account stays erased. True when it was frozen."""
    person, clean = await _operator_change(session, actor, person_id, why)
    if person.erased_at is not None:
        raise PersonErased(detail=N_("This account was erased; it cannot be restored."))
    if person.is_active:
        return False
    person.is_active = True
    person.failed_login_count = 0
    person.locked_until = None
    await record_audit(
        session, actor_id=actor.person_id, action="identity.person_unfrozen",
        object_type="person", object_id=person_id, data={"why": clean},
    )  # fmt: skip
    await session.flush()
    return True


async def freeze_person(session: AsyncSession, *, actor: Actor, person_id: UUID, why: str) -> bool:
    """Stop an account: its sessions and tokens stop working and it cannot sign in. True
    when it was active."""
    require(actor, Action.STAFF_CONSOLE)
    person = await repo.person_by_id(session, person_id)
    if person is None or not person.is_active:
        return False
    person.is_active = False
    await record_audit(
        session, actor_id=actor.person_id, action="identity.person_frozen",
        object_type="person", object_id=person_id, data={"why": why},
    )  # fmt: skip
    await session.flush()
    return True
