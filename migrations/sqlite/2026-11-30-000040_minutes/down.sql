ALTER TABLE minutes DROP COLUMN recipients;
