"""Existing emails in the one form the email rule stores (users.managers.normalize_email).

Sign-in now compares the normalised address exactly, so rows stored under the old rule
("Ann@example.com", "ann@bücher.de") are rewritten to it ("ann@example.com",
"ann@xn--bcher-kva.de"). Only rows not already in that form are read (a million
lower-case ASCII rows cost one indexed scan and no write). A row the rule refuses (a
lookalike stored before it), whose normalised form another row already holds, or
whose normalised form is longer than the column is left as it was: it cannot sign in until staff correct its email in the admin.
Rewrites go around model signals; cached pages and signed-in users' fields that show
an old form expire within CACHE_TTL / USER_FIELDS_MAX_AGE (or run `clear_api_cache`).
"""

from django.core.exceptions import ValidationError
from django.db import migrations
from django.db.models import F, Q
from django.db.models.functions import Lower

from users.managers import normalize_email


def store_emails_normalised(apps, schema_editor):
    User = apps.get_model("users", "User")
    not_normalised = (
        User.objects.annotate(lowered=Lower("email"))
        .filter(~Q(email=F("lowered")) | Q(email__regex=r"[^ -~]"))  # upper case, non-ASCII
        .values_list("pk", "email")
    )
    for pk, email in list(not_normalised):
        try:
            normalised = normalize_email(email)
        except ValidationError:
            continue
        # The punycode form can outgrow the column (254): such a row is left as it was.
        if normalised == email or len(normalised) > 254:
            continue
        if User.objects.filter(email__iexact=normalised).exclude(pk=pk).exists():
            continue
        User.objects.filter(pk=pk).update(email=normalised)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0007_tokens_valid_after"),
    ]

    operations = [
        migrations.RunPython(store_emails_normalised, migrations.RunPython.noop, elidable=True),
    ]
