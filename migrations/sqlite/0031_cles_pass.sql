-- The keys that sign the tokens of the passes' QR codes (Ed25519, the 32-byte seed in
-- base64url). The newest signs; every key stays published, for as long as a booklet it
-- signed may be presented.
CREATE TABLE cles_pass (
    numero BIGINT PRIMARY KEY,
    graine TEXT NOT NULL,
    creee_le BIGINT NOT NULL
);
