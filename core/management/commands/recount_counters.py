"""`manage.py recount_counters`: rebuild every trigger-kept count from the rows.

The triggers (posts/migrations/0003 and 0004) keep the counters exact on every write
path, but not against damage done around them: an UPDATE of project_counter or of
users_user.post_count by hand, rows loaded with triggers disabled, a deleted counter
row. This recounts users_user.post_count (only the rows that are wrong) and the
'users', 'posts' and 'users_with_posts' rows (recreating missing ones), and says what
it fixed. A second run finds nothing to fix. Safe while the API serves (see
`recount`); NetBox's `calculate_cached_counts` does the same job for its counters.
"""

from django.core.management.base import BaseCommand
from django.db import connection

from core import cache as api_cache
from core.db import write_atomically
from core.models import Counter

# What each counter counts. users_with_posts reads post_count, so it runs after the
# post counts are fixed.
TRUE_COUNTS = {
    Counter.USERS: "SELECT count(*) FROM users_user",
    Counter.POSTS: "SELECT count(*) FROM posts_post",
    Counter.USERS_WITH_POSTS: "SELECT count(*) FROM users_user WHERE post_count > 0",
}

# The wrong rows (usually none) are found by one SELECT, kept in a temporary table, and
# only they are updated. An UPDATE cannot left-join its own target, so doing it in one
# statement reads and hashes users twice: 12.6-14.7 s against 7.6-9.5 s for this
# SELECT at a million users and five million posts (docs/PERFORMANCE.md).
POSTGRES_WRONG_POST_COUNTS = """
    CREATE TEMPORARY TABLE true_post_counts AS
    SELECT u.id, coalesce(p.n, 0) AS post_count
      FROM users_user u
      LEFT JOIN (SELECT user_id, count(*) AS n FROM posts_post GROUP BY user_id) p
        ON p.user_id = u.id
     WHERE u.post_count IS DISTINCT FROM coalesce(p.n, 0)
"""
POSTGRES_FIX_POST_COUNTS = """
    UPDATE users_user u SET post_count = t.post_count FROM true_post_counts t WHERE u.id = t.id
"""
SQLITE_FIX_POST_COUNTS = """
    UPDATE users_user SET post_count =
      (SELECT count(*) FROM posts_post p WHERE p.user_id = users_user.id)
     WHERE post_count IS DISTINCT FROM
      (SELECT count(*) FROM posts_post p WHERE p.user_id = users_user.id)
"""

UPSERT_COUNTER = """
    INSERT INTO project_counter (name, value) VALUES (%s, %s)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value
     WHERE project_counter.value IS DISTINCT FROM excluded.value
"""


def fix_post_counts(cursor) -> int:
    """Set each users_user.post_count that is wrong to its user's posts; return how many."""
    if connection.vendor != "postgresql":
        cursor.execute(SQLITE_FIX_POST_COUNTS)
        return cursor.rowcount
    cursor.execute(POSTGRES_WRONG_POST_COUNTS)
    # Without statistics the planner guesses the table's size and may scan every user.
    cursor.execute("ANALYZE true_post_counts")
    cursor.execute(POSTGRES_FIX_POST_COUNTS)
    fixed = cursor.rowcount
    # Dropped now, not at commit: a caller's transaction (a test's) may run this twice.
    cursor.execute("DROP TABLE true_post_counts")
    return fixed


def recount() -> tuple[dict[str, tuple[int | None, int]], int]:
    """Set every count to the truth; return each counter's (old, new) and the users fixed.

    Safe while the API serves, because it runs in one transaction that first takes
    lock_counters(), in the order every trigger takes it. A writer that counts (a post
    insert, delete or move, a user delete) has then either committed before the lock was
    granted, and each statement below, in READ COMMITTED, sees its rows; or it is
    waiting for the lock (its rows written but not committed, so not seen here) and
    applies its delta once this commits, on top of the exact values: its UPDATE of a
    counter or post_count re-reads the row this transaction wrote. A sign-up takes only
    the 'users' row, held here all the same. Nothing can commit a counted change in
    between, so the counts below and the rows agree. (SQLite lets one writer in at a
    time: from the first UPDATE on, the others wait.)

    A user delete, and an API post delete, lock the user's row before they wait for the
    counters; if that user's post_count is one being fixed here, PostgreSQL breaks the
    deadlock by aborting one side, and write_atomically (here and in the API) runs it
    again.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT lock_counters()")
        cursor.execute("SELECT name, value FROM project_counter")
        before = dict(cursor.fetchall())
        fixed_users = fix_post_counts(cursor)
        changes = {}
        for name, count_sql in TRUE_COUNTS.items():
            cursor.execute(count_sql)
            (true_value,) = cursor.fetchone()
            # The post_count fixes above may already have moved users_with_posts (its
            # trigger), so the write compares with the row as it is now.
            cursor.execute(UPSERT_COUNTER, [name, true_value])
            if before.get(name) != true_value:
                changes[name] = (before.get(name), true_value)
    if changes or fixed_users:
        # Lists, stats and the posts ranking may hold the wrong counts in the cache.
        api_cache.invalidate_on_commit(*api_cache.FAMILIES)
    return changes, fixed_users


class Command(BaseCommand):
    help = "Recount the trigger-kept counters and every user's post_count from the rows."

    def handle(self, *args, **options):
        changes, fixed_users = write_atomically(recount)
        fixes = [
            f"{name}: {'missing' if old is None else old} → {new}"
            for name, (old, new) in changes.items()
        ]
        if fixed_users:
            fixes.append(f"post_count fixed on {fixed_users} users")
        if not fixes:
            self.stdout.write("Every count was already exact; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS("Fixed " + "; ".join(fixes) + "."))
