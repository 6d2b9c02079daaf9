-- Hints that let a read skip looking for what a task almost never has.
-- had_subtasks: the task has (or once had) a subtask; had_links: it is (or
-- was) at either end of a link. Nothing clears them. A false hint means
-- none, so a task's child counts and `blocked` are read from other rows
-- only when its hint is true (columns.rs, RELATIONS). had_links is set by a
-- trigger on task_links; had_subtasks by the store, on the few writes that
-- give a task a parent (sql.rs, mark_parents): any trigger on tasks, even
-- one whose WHEN is false, costs SQLite every insert.
ALTER TABLE tasks ADD COLUMN had_subtasks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN had_links INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER task_links_hint AFTER INSERT ON task_links
BEGIN
    UPDATE tasks SET had_links = 1 WHERE id IN (NEW.task_id, NEW.other_id) AND had_links = 0;
END;

-- Rows written before this migration:
UPDATE tasks SET had_subtasks = 1
WHERE EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = tasks.id);
UPDATE tasks SET had_links = 1
WHERE EXISTS (SELECT 1 FROM task_links k WHERE k.task_id = tasks.id OR k.other_id = tasks.id);
