-- Who made each change: the owner of the list (user_id, the partition key)
-- or, once lists are shared, one of its members. NULL in rows written
-- before this migration, whose actor was their user.
ALTER TABLE task_events ADD COLUMN actor_id TEXT;
