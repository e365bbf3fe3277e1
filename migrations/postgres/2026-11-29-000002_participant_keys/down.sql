DROP INDEX participants_name_phone_key;
DROP INDEX participants_email_key;
ALTER TABLE participants DROP COLUMN duplicate_of;
ALTER TABLE participants DROP COLUMN name_phone_key;
ALTER TABLE participants DROP COLUMN email_key;
