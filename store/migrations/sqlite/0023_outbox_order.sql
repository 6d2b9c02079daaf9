-- PostgreSQL's 0023 makes events commit in sequence order. SQLite has one
-- writer, so they already do: nothing to change here.
SELECT 1;
