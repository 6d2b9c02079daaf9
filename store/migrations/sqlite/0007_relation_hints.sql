-- Hints that let a read skip looking for what a task almost never has.
-- had_subtasks: the task has (or once had) a subtask; had_links: it is (or
-- was) at either end of a link. Triggers set them; nothing clears them. A
-- false hint means none, so a task's child counts and `blocked` are read
-- from other rows only when its hint is true (columns.rs, RELATIONS).
ALTER TABLE tasks ADD COLUMN had_subtasks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN had_links INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER tasks_hint_parent_insert AFTER INSERT ON tasks
WHEN NEW.parent_id IS NOT NULL
BEGIN
    UPDATE tasks SET had_subtasks = 1 WHERE id = NEW.parent_id AND had_subtasks = 0;
END;
CREATE TRIGGER tasks_hint_parent_update AFTER UPDATE OF parent_id ON tasks
WHEN NEW.parent_id IS NOT NULL AND NEW.parent_id IS NOT OLD.parent_id
BEGIN
    UPDATE tasks SET had_subtasks = 1 WHERE id = NEW.parent_id AND had_subtasks = 0;
END;
CREATE TRIGGER task_links_hint AFTER INSERT ON task_links
BEGIN
    UPDATE tasks SET had_links = 1 WHERE id IN (NEW.task_id, NEW.other_id) AND had_links = 0;
END;

-- Rows written before this migration:
UPDATE tasks SET had_subtasks = 1
WHERE EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = tasks.id);
UPDATE tasks SET had_links = 1
WHERE EXISTS (SELECT 1 FROM task_links k WHERE k.task_id = tasks.id OR k.other_id = tasks.id);
