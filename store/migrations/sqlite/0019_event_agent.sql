-- The agent that made each change for its actor (an app the person
-- connected, or a token minted for one); NULL: the person themself.
ALTER TABLE task_events ADD COLUMN agent_id INTEGER;
