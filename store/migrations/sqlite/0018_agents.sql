-- Agents: an assistant acting for a user — an OAuth client the user
-- approved, or a token minted with `taskflow token --agent`. Revoking one
-- (`revoked_at`) ends its grants and tokens at once.
CREATE TABLE oauth_clients (
    id            TEXT PRIMARY KEY,                 -- client_id, random
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,                    -- JSON array, matched exactly
    created_at    TEXT NOT NULL
);

CREATE TABLE agents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT    NOT NULL,
    client_id    TEXT    REFERENCES oauth_clients (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,                  -- space-separated, as granted
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX agents_user ON agents (user_id, id);
CREATE UNIQUE INDEX agents_client ON agents (user_id, client_id) WHERE revoked_at IS NULL;

-- A grant: one approval (or one minted token) and the family of tokens
-- issued from it. An access token names its grant, so revoking the grant,
-- or reusing a spent code or refresh token, ends every token of the family.
CREATE TABLE oauth_grants (
    id             TEXT    PRIMARY KEY,             -- random
    agent_id       INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    scopes         TEXT    NOT NULL,
    resource       TEXT    NOT NULL,
    redirect_uri   TEXT,
    code_challenge TEXT,
    created_at     TEXT    NOT NULL,
    revoked_at     TEXT
);
CREATE INDEX oauth_grants_agent ON oauth_grants (agent_id);

-- Authorization codes and refresh tokens, by the SHA-256 of their value
-- (the value itself is never stored). Spent ones are kept until they
-- expire, so a second use is recognised and revokes the grant.
CREATE TABLE oauth_tokens (
    hash       TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('code', 'refresh')),
    expires_at TEXT NOT NULL,
    spent_at   TEXT
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_age ON oauth_tokens (expires_at);
