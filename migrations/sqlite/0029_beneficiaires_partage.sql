-- A followed beneficiary's file is seen by the mediator who opened it (`cree_par`) and,
-- when the person agreed (`partage` = 1), by the structure's other mediators too.
ALTER TABLE beneficiaires ADD COLUMN partage BIGINT NOT NULL DEFAULT 0;
