-- The SIRET ProConnect gave at a person's last ProConnect login: the organisation it vouches
-- they work for. With it, a person claims an imported structure of that SIRET that has no
-- référent yet, instead of creating a second one.
ALTER TABLE persons ADD COLUMN proconnect_siret TEXT;
