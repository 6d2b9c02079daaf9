-- had_comments: the task has (or once had) a comment; like the hints of
-- 0007, nothing clears it and false means none, so a task's detail reads
-- its comments only when the hint is true. Set by a trigger on comments
-- (a trigger on comments costs only a comment's insert).
ALTER TABLE tasks ADD COLUMN had_comments BOOLEAN NOT NULL DEFAULT FALSE;
CREATE FUNCTION comments_hint() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tasks SET had_comments = TRUE WHERE id = NEW.task_id AND NOT had_comments;
    RETURN NULL;
END $$;
CREATE TRIGGER comments_hint AFTER INSERT ON comments FOR EACH ROW
    EXECUTE FUNCTION comments_hint();

-- Rows written before this migration:
UPDATE tasks t SET had_comments = TRUE
WHERE EXISTS (SELECT 1 FROM comments c WHERE c.task_id = t.id);
