-- The secretary's list of recipients ("Nơi nhận"), one a line.
ALTER TABLE minutes ADD COLUMN recipients TEXT;
