-- People: one row per JWT subject, made on first sight (users.rs). The
-- username is what others type to invite someone: the token's
-- `preferred_username` when free, else the subject. The display name is the
-- token's `name` (or the username) until the person changes it.
CREATE TABLE users (
    id           TEXT PRIMARY KEY,                      -- the JWT `sub`
    username     TEXT NOT NULL UNIQUE,                  -- exact, as given
    display_name TEXT NOT NULL,
    time_zone    TEXT,                                  -- IANA name, the person's default
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Everyone who has lists, notifications or conversations already.
INSERT INTO users (id, username, display_name, created_at, updated_at)
SELECT user_id, user_id, user_id, MIN(created_at), MIN(created_at)
FROM (
    SELECT user_id, created_at FROM lists
    UNION ALL SELECT user_id, created_at FROM notifications
    UNION ALL SELECT user_id, created_at FROM conversations
) AS everyone GROUP BY user_id;
