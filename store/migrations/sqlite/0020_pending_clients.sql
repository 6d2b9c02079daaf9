-- Apps no one approved yet are counted (at most 10,000 wait) and pruned a
-- day after registering: both look up agents by client, as does the
-- cascade when a client goes.
CREATE INDEX agents_client_id ON agents (client_id);
