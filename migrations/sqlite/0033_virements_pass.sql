-- A funder's transfers of a month of a programme (`mois`: AAAA-MM; a pass counts in the
-- month Relais recorded its use, so a month once over never changes): prepared by the
-- programme's owner or by the monthly job (`prepare_par` empty), then their payment
-- confirmed by the owner once the month is over.
CREATE TABLE virements_pass (
    programme_id BIGINT NOT NULL REFERENCES programmes_pass (id),
    financeur BIGINT NOT NULL,
    mois TEXT NOT NULL,
    virements BIGINT NOT NULL,
    total_centimes BIGINT NOT NULL,
    prepare_le BIGINT NOT NULL,
    prepare_par BIGINT REFERENCES persons (id),
    paye_le BIGINT,
    paye_par BIGINT REFERENCES persons (id),
    PRIMARY KEY (programme_id, financeur, mois)
);

-- A programme's end, once past its last day and grace: its passes never used, whose value
-- goes back to the funders (`parts`: each funder's cents, in their order, separated by
-- spaces). Written once, by the daily job.
CREATE TABLE fins_programme_pass (
    programme_id BIGINT PRIMARY KEY REFERENCES programmes_pass (id),
    pass_non_utilises BIGINT NOT NULL,
    montant_centimes BIGINT NOT NULL,
    parts TEXT NOT NULL,
    constatee_le BIGINT NOT NULL
);

-- The usage alerts sent to a programme's référents before its last day (`jalon`: 30 or
-- 15 days before), once each.
CREATE TABLE alertes_pass (
    programme_id BIGINT NOT NULL REFERENCES programmes_pass (id),
    jalon BIGINT NOT NULL,
    envoyee_le BIGINT NOT NULL,
    PRIMARY KEY (programme_id, jalon)
);
