"""The user model: `users.User` is AUTH_USER_MODEL, signing in by email."""

from django.contrib.auth.base_user import AbstractBaseUser
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

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        try:
            self.email = self.__class__.objects.normalize_email(self.email)
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from None
