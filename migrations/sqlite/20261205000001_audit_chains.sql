-- Each server's audit rows form their own chain (steward's own rows, with no server, form
-- chain 0), so processes serving different servers never wait on one head. `seq` is a
-- row's place in its chain, from 1, hashed with the row instead of its id. Rows written
-- before chains existed keep both NULL and stay one chain in id order, hashed as they were.
ALTER TABLE audit_log ADD COLUMN chain INTEGER;
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
CREATE UNIQUE INDEX audit_chain_seq ON audit_log (chain, seq);
