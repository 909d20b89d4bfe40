"""Counters that survive TRUNCATE, and post moves that take the counters first.

TRUNCATE fires no INSERT or DELETE triggers, so without these the counters would keep
counting rows that are gone, for good (CountedQuerySet only falls back to COUNT(*) when
a counter row is missing). Statement-level AFTER TRUNCATE triggers set what the emptied
table counted to zero. They upsert: Django's flush (and so every transactional test)
truncates project_counter in the same statement, and AFTER TRUNCATE triggers run once
every listed table is empty, so the rows are recreated here, exact.

posts_after_update used to write users rows (post_count) and then, through
users_after_update, the 'users_with_posts' row without lock_counters(): a post moved to
another author held a users row while waiting for a counter that a concurrent insert
held while waiting for that users row. It now takes the counters first, like every other
trigger (posts/migrations/0003), but only when a post changes author, so that editing a
title queues behind nothing.

SQLite has no TRUNCATE and one writer at a time: nothing to do there.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION zero_counters(VARIADIC names text[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO project_counter (name, value)
  SELECT name, 0 FROM unnest(names) AS name ORDER BY name
  ON CONFLICT (name) DO UPDATE SET value = 0;
$$;

CREATE FUNCTION posts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_counters();
  -- Runs users_after_update, which moves 'users_with_posts' by its delta; the value
  -- is set outright below, so a drifted or missing row ends at zero all the same.
  UPDATE users_user SET post_count = 0 WHERE post_count <> 0;
  PERFORM zero_counters('posts', 'users_with_posts');
  RETURN NULL;
END $$;
CREATE TRIGGER posts_after_truncate AFTER TRUNCATE ON posts_post
  FOR EACH STATEMENT EXECUTE FUNCTION posts_after_truncate();

CREATE FUNCTION users_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- TRUNCATE users_user needs CASCADE, which empties posts_post too (and runs
  -- posts_after_truncate): no user is left to have posts.
  PERFORM lock_counters();
  PERFORM zero_counters('users', 'users_with_posts');
  RETURN NULL;
END $$;
CREATE TRIGGER users_after_truncate AFTER TRUNCATE ON users_user
  FOR EACH STATEMENT EXECUTE FUNCTION users_after_truncate();

CREATE OR REPLACE FUNCTION posts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                  WHERE n.user_id <> o.user_id) THEN
    RETURN NULL;
  END IF;
  -- Before any users row: the post_count writes below run users_after_update, which
  -- may write 'users_with_posts', and a concurrent insert holds the counters while it
  -- waits for the same users rows.
  PERFORM lock_counters();
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
"""

# posts_after_update as posts/migrations/0003 created it.
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS posts_after_truncate ON posts_post;
DROP TRIGGER IF EXISTS users_after_truncate ON users_user;
DROP FUNCTION IF EXISTS posts_after_truncate(), users_after_truncate(),
  zero_counters(VARIADIC text[]);

CREATE OR REPLACE FUNCTION posts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("posts", "0003_counters_and_post_count_triggers")]

    operations = [migrations.RunPython(install, uninstall)]
