-- Sharing (members.rs). A list's owner is lists.user_id, and every list
-- nested in it, and every task in them, has the same owner (the partition
-- key and the write lock). Others reach a list through a grant on it or on
-- a list it is nested in; the nearest grant wins. The Inbox is never
-- shared.
CREATE TABLE list_members (
    list_id    INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    added_by   TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
CREATE INDEX list_members_user ON list_members (user_id);

-- Derived from list_members and the lists' nesting and archiving, written
-- by the store in the transaction of every change to them
-- (members.rs, refresh_access): each member's role on each list they
-- reach, from which grant, and whether that list is archived (itself or
-- through a list it is in). Every read of a shared list is one probe of
-- this table.
CREATE TABLE list_access (
    user_id  TEXT    NOT NULL,
    list_id  INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    role     TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    archived INTEGER NOT NULL DEFAULT 0,
    granted_on INTEGER NOT NULL,                    -- the list whose grant this is
    PRIMARY KEY (user_id, list_id)
);
CREATE INDEX list_access_list ON list_access (list_id);

-- An invitation waits for the invitee to accept or decline it.
CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id    INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    invitee    TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    invited_by TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    UNIQUE (list_id, invitee)
);
CREATE INDEX invitations_invitee ON invitations (invitee, id);
