-- The W3C traceparent of the work that made each change (NULL for changes
-- made before tracing), so the relay publishes the event in that trace and
-- its consumers continue it.
ALTER TABLE task_events ADD COLUMN traceparent TEXT;
