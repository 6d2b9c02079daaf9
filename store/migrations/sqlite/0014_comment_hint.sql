-- had_comments: the task has (or once had) a comment; like the hints of
-- 0007, nothing clears it and false means none, so a task's detail reads
-- its comments only when the hint is true. Set by a trigger on comments
-- (a trigger on comments costs only a comment's insert).
ALTER TABLE tasks ADD COLUMN had_comments INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER comments_hint AFTER INSERT ON comments
BEGIN
    UPDATE tasks SET had_comments = 1 WHERE id = NEW.task_id AND had_comments = 0;
END;

-- Rows written before this migration:
UPDATE tasks SET had_comments = 1
WHERE EXISTS (SELECT 1 FROM comments c WHERE c.task_id = tasks.id);
