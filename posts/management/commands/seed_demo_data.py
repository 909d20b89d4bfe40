"""`manage.py seed_demo_data --users N --posts-per-user M [--seed S]`: realistic demo data.

Reproducible (the same seed gives the same rows on an empty database) and fast enough
for a million users: Faker builds pools of names and texts once, rows are combined from
them with a seeded RNG, and on PostgreSQL they stream in with `COPY` through psycopg,
batched, under a progress bar. SQLite takes the slower `bulk_create` path. Writes go
around model signals, so the API caches are invalidated explicitly at the end.
"""

import datetime as dt
import random
from itertools import islice

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from faker import Faker
from psycopg import sql
from tqdm import tqdm

from core import cache as api_cache
from posts.models import Post
from users.models import User

# Unusable (the "!" prefix), so demo accounts cannot sign in until given a password.
DEMO_PASSWORD = "!demo-account"  # noqa: S105 - an unusable marker, not a secret
POOL_SIZE = 2_000
SPREAD = dt.timedelta(days=365)
ORM_BATCH = 5_000
USER_COLUMNS = ("name", "email", "password", "created_at", "is_staff", "is_active", "is_superuser")
POST_COLUMNS = ("user_id", "title", "content", "created_at")


class DemoText:
    """Pools of Faker text, combined cheaply per row with a seeded RNG."""

    def __init__(self, seed: int):
        fake = Faker()
        Faker.seed(seed)
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not cryptography
        self.first_names = [fake.first_name() for _ in range(POOL_SIZE)]
        self.last_names = [fake.last_name() for _ in range(POOL_SIZE)]
        self.titles = [fake.sentence(nb_words=6).rstrip(".") for _ in range(POOL_SIZE)]
        self.paragraphs = [fake.paragraph(nb_sentences=4) for _ in range(POOL_SIZE)]
        self.now = timezone.now()

    def moment(self) -> dt.datetime:
        return self.now - SPREAD * self.rng.random()

    def user_row(self, number: int) -> tuple:
        first, last = self.rng.choice(self.first_names), self.rng.choice(self.last_names)
        email = f"{first}.{last}.{number}@example.org".lower().replace(" ", "")
        return (f"{first} {last}", email, DEMO_PASSWORD, self.moment(), False, True, False)

    def post_row(self, user_id: int) -> tuple:
        return (
            user_id,
            self.rng.choice(self.titles),
            self.rng.choice(self.paragraphs),
            self.moment(),
        )


def batched(rows, size):
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class Command(BaseCommand):
    help = "Create N users with M posts each, reproducibly (fast COPY on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=1000, help="users to create")
        parser.add_argument("--posts-per-user", type=int, default=5, help="posts per user")
        parser.add_argument("--seed", type=int, default=42, help="random seed")
        parser.add_argument("--batch-size", type=int, default=50_000, help="rows per batch")

    def handle(self, *args, users, posts_per_user, seed, batch_size, **options):
        if users < 0 or posts_per_user < 0 or batch_size < 1:
            raise CommandError("--users and --posts-per-user must be >= 0, --batch-size >= 1")
        text = DemoText(seed)
        show = self.stdout.isatty()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Users then posts in one transaction: take the counter rows up front,
                # in the triggers' order (posts/migrations/0003), not users-first.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT lock_counters()")
            # Numbers continue after existing users, so emails stay unique on a re-run.
            last_id = User.objects.aggregate(top=Max("id"))["top"] or 0
            user_rows = (text.user_row(last_id + 1 + i) for i in range(users))
            if connection.vendor == "postgresql":
                self._copy(User, USER_COLUMNS, user_rows, users, batch_size, show)
                user_ids = list(
                    User.objects.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)
                )
            else:
                user_ids = self._bulk_create_users(user_rows, users, show)
            post_rows = (
                text.post_row(user_id) for user_id in user_ids for _ in range(posts_per_user)
            )
            total_posts = len(user_ids) * posts_per_user
            if connection.vendor == "postgresql":
                self._copy(Post, POST_COLUMNS, post_rows, total_posts, batch_size, show)
            else:
                self._bulk_create_posts(post_rows, total_posts, show)
            # Bulk writes send no signals: invalidate once, after the commit.
            api_cache.invalidate_on_commit(*api_cache.FAMILIES)
        if connection.vendor == "postgresql":
            # Fresh statistics for the planner, and a visibility map so that counts and
            # deep pages can be index-only scans. VACUUM cannot run inside a transaction
            # (a caller's, such as a test's): ANALYZE alone then.
            command = "ANALYZE {}, {}" if connection.in_atomic_block else "VACUUM (ANALYZE) {}, {}"
            with connection.cursor() as cursor:
                cursor.cursor.execute(
                    sql.SQL(command).format(
                        sql.Identifier(User._meta.db_table), sql.Identifier(Post._meta.db_table)
                    )
                )
        self.stdout.write(
            self.style.SUCCESS(f"Created {users} users and {users * posts_per_user} posts.")
        )

    def _copy(self, model, columns, rows, total, batch_size, show):
        """Stream rows into the model's table with COPY, one COPY per batch."""
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        unit = model._meta.verbose_name_plural
        with connection.cursor() as cursor, tqdm(total=total, unit=unit, disable=not show) as bar:
            for batch in batched(rows, batch_size):
                with cursor.cursor.copy(statement) as copy:
                    for row in batch:
                        copy.write_row(row)
                bar.update(len(batch))

    def _bulk_create_users(self, rows, total, show):
        """The portable path (SQLite); returns the new users' ids."""
        ids = []
        with tqdm(total=total, unit="users", disable=not show) as bar:
            for batch in batched(rows, ORM_BATCH):
                created = User.objects.bulk_create(
                    [
                        User(name=n, email=e, password=p, created_at=c)
                        for n, e, p, c, *_flags in batch
                    ]
                )
                ids.extend(user.pk for user in created)
                bar.update(len(batch))
        return ids

    def _bulk_create_posts(self, rows, total, show):
        """The portable path (SQLite)."""
        with tqdm(total=total, unit="posts", disable=not show) as bar:
            for batch in batched(rows, ORM_BATCH):
                Post.objects.bulk_create(
                    [Post(user_id=u, title=t, content=c, created_at=at) for u, t, c, at in batch]
                )
                bar.update(len(batch))
