"""The user model: `users.User` is AUTH_USER_MODEL, signing in by email."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from .managers import UserManager

EMAIL_CI_UNIQUE = "users_user_email_ci_unique"


class User(AbstractBaseUser, PermissionsMixin):
    """A person using the API; staff also manage data in the admin."""

    name = models.CharField(max_length=150)
    # Stored in one form (users.managers.normalize_email: lower-case, IDNA domain).
    # unique=True satisfies auth check E003 and answers sign-in's exact lookup; the
    # Upper() constraint below still makes "Ann@x.io" and "ann@x.io" one account for
    # any writer that skips the manager, decided by the database under races. Upper,
    # not Lower: Django compiles `email__iexact` to UPPER(email) = UPPER(%s), so the
    # constraint's index also answers the serializer's duplicate check.
    email = models.EmailField(max_length=254, unique=True)
    # Set on insert (not auto_now_add, which would also overwrite the historic dates
    # that seed_demo_data writes); never editable through forms or the API.
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    # Kept by database triggers on posts (posts/migrations/0003), in the transaction of
    # each post write, so the posts-per-user ranking never aggregates the posts table.
    post_count = models.IntegerField(db_default=0, editable=False)
    # Tokens issued before this instant are refused (users.accounts.check_not_revoked).
    # Set by save() below on a password change or a deactivation, whoever makes it (API,
    # admin, ORM), and by users.accounts.revoke_tokens (sign out everywhere).
    tokens_valid_after = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["id"]
        indexes = [
            # The posts-per-user ranking: most posts first, users without posts left out.
            models.Index(
                models.F("post_count").desc(),
                "id",
                name="users_post_count_rank_idx",
                condition=models.Q(post_count__gt=0),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                Upper("email"),
                name=EMAIL_CI_UNIQUE,
                violation_error_message="A user with this email already exists.",
            ),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The active flag as loaded, to see a deactivation in save(). Read from __dict__:
        # a deferred field must not cost a query here.
        self._loaded_is_active = self.__dict__.get("is_active")

    def __str__(self):
        return self.email

    def set_unusable_password(self):
        # The admin's "disable password-based authentication" and the ORM's way to lock
        # an account: it sets no `_password`, yet must end earlier tokens like a change.
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args, **kwargs):
        # AbstractBaseUser keeps `_password` from set_password() until the save; its
        # hash upgrade on sign-in clears it first, so only a real change counts.
        deactivated = self._loaded_is_active is True and self.__dict__.get("is_active") is False
        password_changed = self._password is not None or getattr(self, "_password_disabled", False)
        if not self._state.adding and (password_changed or deactivated):
            self.tokens_valid_after = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "tokens_valid_after"}
        super().save(*args, **kwargs)
        self._loaded_is_active = self.__dict__.get("is_active")
        self._password_disabled = False

    def clean(self):
        super().clean()
        try:
            self.email = self.__class__.objects.normalize_email(self.email)
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from None


class ReadOnlyUserError(TypeError):
    """Raised by an attempt to save or delete the user that authentication built."""


class CachedUser(User):
    """The signed-in user as bearer authentication builds it from cached fields: read-only.

    It is a User for everything that reads it (permissions, serializers, `isinstance`,
    equality by pk), but it was never loaded as a whole row: saving it would write the
    uncached columns (the password hash, `last_login`, `post_count`) from whatever it
    holds. So save() and delete() refuse; change a user through a row you load. The
    uncached fields are deferred, as with `.only()`: reading one, or refresh_from_db(),
    loads it from the database.
    """

    class Meta:
        proxy = True
        default_permissions = ()

    @classmethod
    def from_fields(cls, fields: dict, using: str = "default") -> "CachedUser":
        """The user these cached fields describe, the others left to load on access."""
        names = [f.attname for f in cls._meta.concrete_fields if f.attname in fields]
        return cls.from_db(using, names, [fields[name] for name in names])

    def _refuse(self, action: str):
        raise ReadOnlyUserError(
            f"request.user (user {self.pk}) was built from cached fields and cannot be "
            f"{action}: load it with User.objects.get(pk={self.pk}) to change it."
        )

    def save(self, *args, **kwargs):
        self._refuse("saved")

    def check_password(self, raw_password):
        # AbstractBaseUser's would save a re-hashed password (after a hasher upgrade),
        # which this principal refuses: check only; the next full-row sign-in upgrades it.
        return check_password(raw_password, self.password)

    def delete(self, *args, **kwargs):
        self._refuse("deleted")
