"""The user manager: how users are created, with the email normalised in one place."""

from django.contrib.auth.base_user import BaseUserManager

from core.counting import CountedQuerySet
from core.models import Counter


class UserManager(BaseUserManager.from_queryset(CountedQuerySet)):
    """Creates users keyed by email; a user created without a password cannot sign in.

    Its querysets count all users from the trigger-kept counter, not COUNT(*).
    """

    use_in_migrations = True

    def get_queryset(self):
        return super().get_queryset().counted_as(Counter.USERS)

    def get_by_natural_key(self, username):
        # Emails are unique in any letter case, so sign-in ignores case too (through
        # the UPPER(email) unique index).
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})

    def _create_user(self, email, name, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), name=name, **extra_fields)
        # set_password(None) stores an unusable password: no sign-in until one is set.
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, name, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, name, password, **extra_fields)

    def create_superuser(self, email, name, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, name, password, **extra_fields)
