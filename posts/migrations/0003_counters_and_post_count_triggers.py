"""Triggers that keep row counts and each user's post_count exact, in the same transaction.

Maintained by the database so that every write path (the ORM, the admin, COPY in
seed_demo_data, a cascade from a deleted user, raw SQL) keeps them right:
- project_counter 'users', 'posts': rows in users_user and posts_post;
- project_counter 'users_with_posts': users whose post_count > 0;
- users_user.post_count: that user's posts.

PostgreSQL uses statement-level triggers with transition tables (one grouped UPDATE per
statement, so a COPY of five million posts costs one pass). Deadlocks: a user's delete
cascades to posts inside the same statement, so triggers of both tables run in one
transaction in an order PostgreSQL chooses. Every trigger that writes a counter
therefore first locks all counter rows, always in the same order (lock_counters()),
with one exception: a sign-up takes only the 'users' row (see users_after_insert), and
a transaction that also writes posts afterwards (seed_demo_data) calls
lock_counters() itself first. users_after_update writes a counter only for post_count
changes, which come from the posts triggers that already hold them. SQLite (one writer
at a time) gets row-level equivalents.
"""

from django.db import migrations

COUNTERS = ("users", "posts", "users_with_posts")

POSTGRES_FORWARD = """
CREATE FUNCTION lock_counters() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM project_counter ORDER BY name FOR UPDATE;
END $$;

CREATE FUNCTION posts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_counters();
  UPDATE project_counter SET value = value + (SELECT count(*) FROM new_rows)
   WHERE name = 'posts';
  UPDATE users_user u SET post_count = u.post_count + d.n
    FROM (SELECT user_id, count(*) AS n FROM new_rows GROUP BY user_id) d
   WHERE u.id = d.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER posts_after_insert AFTER INSERT ON posts_post
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION posts_after_insert();

CREATE FUNCTION posts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_counters();
  UPDATE project_counter SET value = value - (SELECT count(*) FROM old_rows)
   WHERE name = 'posts';
  UPDATE users_user u SET post_count = u.post_count - d.n
    FROM (SELECT user_id, count(*) AS n FROM old_rows GROUP BY user_id) d
   WHERE u.id = d.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER posts_after_delete AFTER DELETE ON posts_post
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION posts_after_delete();

CREATE FUNCTION posts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users_user u SET post_count = u.post_count + d.n
    FROM (
      SELECT user_id, sum(n) AS n FROM (
        SELECT n.user_id, 1 AS n FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE n.user_id <> o.user_id
        UNION ALL
        SELECT o.user_id, -1 FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE n.user_id <> o.user_id
      ) moves GROUP BY user_id
    ) d
   WHERE u.id = d.user_id AND d.n <> 0;
  RETURN NULL;
END $$;
CREATE TRIGGER posts_after_update AFTER UPDATE ON posts_post
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION posts_after_update();

CREATE FUNCTION users_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- New users have no posts: only the 'users' row is needed, and a transaction that
  -- takes nothing after it cannot be part of a lock cycle, so sign-ups do not queue
  -- behind the other counters. Rows inserted with posts already counted are the
  -- exception and take every counter, in order.
  IF EXISTS (SELECT 1 FROM new_rows WHERE post_count > 0) THEN
    PERFORM lock_counters();
    UPDATE project_counter
       SET value = value + (SELECT count(*) FROM new_rows WHERE post_count > 0)
     WHERE name = 'users_with_posts';
  END IF;
  UPDATE project_counter SET value = value + (SELECT count(*) FROM new_rows)
   WHERE name = 'users';
  RETURN NULL;
END $$;
CREATE TRIGGER users_after_insert AFTER INSERT ON users_user
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_after_insert();

CREATE FUNCTION users_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_counters();
  UPDATE project_counter SET value = value - (SELECT count(*) FROM old_rows)
   WHERE name = 'users';
  UPDATE project_counter
     SET value = value - (SELECT count(*) FROM old_rows WHERE post_count > 0)
   WHERE name = 'users_with_posts';
  RETURN NULL;
END $$;
CREATE TRIGGER users_after_delete AFTER DELETE ON users_user
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION users_after_delete();

CREATE FUNCTION users_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta bigint;
BEGIN
  SELECT coalesce(sum(CASE WHEN n.post_count > 0 AND o.post_count <= 0 THEN 1
                           WHEN n.post_count <= 0 AND o.post_count > 0 THEN -1
                           ELSE 0 END), 0)
    INTO delta
    FROM new_rows n JOIN old_rows o ON o.id = n.id;
  IF delta <> 0 THEN
    UPDATE project_counter SET value = value + delta WHERE name = 'users_with_posts';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER users_after_update AFTER UPDATE ON users_user
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION users_after_update();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS posts_after_insert ON posts_post;
DROP TRIGGER IF EXISTS posts_after_delete ON posts_post;
DROP TRIGGER IF EXISTS posts_after_update ON posts_post;
DROP TRIGGER IF EXISTS users_after_insert ON users_user;
DROP TRIGGER IF EXISTS users_after_delete ON users_user;
DROP TRIGGER IF EXISTS users_after_update ON users_user;
DROP FUNCTION IF EXISTS posts_after_insert(), posts_after_delete(), posts_after_update(),
  users_after_insert(), users_after_delete(), users_after_update(), lock_counters();
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER posts_after_insert AFTER INSERT ON posts_post BEGIN
         UPDATE project_counter SET value = value + 1 WHERE name = 'posts';
         UPDATE users_user SET post_count = post_count + 1 WHERE id = NEW.user_id;
       END""",
    """CREATE TRIGGER posts_after_delete AFTER DELETE ON posts_post BEGIN
         UPDATE project_counter SET value = value - 1 WHERE name = 'posts';
         UPDATE users_user SET post_count = post_count - 1 WHERE id = OLD.user_id;
       END""",
    """CREATE TRIGGER posts_after_update AFTER UPDATE OF user_id ON posts_post
       WHEN NEW.user_id <> OLD.user_id BEGIN
         UPDATE users_user SET post_count = post_count - 1 WHERE id = OLD.user_id;
         UPDATE users_user SET post_count = post_count + 1 WHERE id = NEW.user_id;
       END""",
    """CREATE TRIGGER users_after_insert AFTER INSERT ON users_user BEGIN
         UPDATE project_counter SET value = value + 1 WHERE name = 'users';
         UPDATE project_counter SET value = value + 1
          WHERE name = 'users_with_posts' AND NEW.post_count > 0;
       END""",
    """CREATE TRIGGER users_after_delete AFTER DELETE ON users_user BEGIN
         UPDATE project_counter SET value = value - 1 WHERE name = 'users';
         UPDATE project_counter SET value = value - 1
          WHERE name = 'users_with_posts' AND OLD.post_count > 0;
       END""",
    """CREATE TRIGGER users_after_update AFTER UPDATE OF post_count ON users_user BEGIN
         UPDATE project_counter SET value = value + 1
          WHERE name = 'users_with_posts' AND NEW.post_count > 0 AND OLD.post_count <= 0;
         UPDATE project_counter SET value = value - 1
          WHERE name = 'users_with_posts' AND NEW.post_count <= 0 AND OLD.post_count > 0;
       END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "posts_after_insert",
        "posts_after_delete",
        "posts_after_update",
        "users_after_insert",
        "users_after_delete",
        "users_after_update",
    )
]


def install(apps, schema_editor):
    execute = schema_editor.execute
    # Start from the truth, whatever rows already exist.
    execute(
        "UPDATE users_user SET post_count = "
        "(SELECT count(*) FROM posts_post p WHERE p.user_id = users_user.id)"
    )
    Counter = apps.get_model("project", "Counter")
    Counter.objects.all().delete()
    User, Post = apps.get_model("users", "User"), apps.get_model("posts", "Post")
    Counter.objects.bulk_create(
        [
            Counter(name="users", value=User.objects.count()),
            Counter(name="posts", value=Post.objects.count()),
            Counter(name="users_with_posts", value=User.objects.filter(post_count__gt=0).count()),
        ]
    )
    if schema_editor.connection.vendor == "postgresql":
        execute(POSTGRES_FORWARD)
    else:
        for statement in SQLITE_FORWARD:
            execute(statement)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)
    else:
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0002_alter_post_created_at"),
        ("users", "0004_name_trigram_index"),
        ("project", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
