-- "No duplicate person in a dialogue" as unique constraints, so a race between two requests
-- becomes a friendly conflict instead of a second row. The keys are computed in Rust on
-- insert (participants::store::prepare); here they are filled in for existing rows the same
-- way: the email as stored (already lower case), and the folded name with the phone's digits
-- (+84… written as 0…).
ALTER TABLE participants ADD COLUMN email_key TEXT;
ALTER TABLE participants ADD COLUMN name_phone_key TEXT;
-- Set when a self-registration matched someone already on the list: the answer must not
-- reveal that, so the person is registered as a new row that the organizer reviews.
ALTER TABLE participants ADD COLUMN duplicate_of TEXT;

UPDATE participants SET email_key = email WHERE email IS NOT NULL;
UPDATE participants SET name_phone_key = name_key || '|' ||
    CASE WHEN phone LIKE '+84%'
         THEN '0' || substr(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '.', ''), '-', ''), '(', ''), ')', ''), '+', ''), 3)
         ELSE replace(replace(replace(replace(replace(replace(phone, ' ', ''), '.', ''), '-', ''), '(', ''), ')', ''), '+', '')
    END
WHERE phone IS NOT NULL;

-- Rows that races already duplicated keep their data; the later ones are marked.
UPDATE participants SET duplicate_of = (
        SELECT p2.id FROM participants p2
        WHERE p2.dialogue_id = participants.dialogue_id AND p2.email_key = participants.email_key
          AND p2.id < participants.id ORDER BY p2.id LIMIT 1),
    email_key = NULL
WHERE email_key IS NOT NULL AND EXISTS (
        SELECT 1 FROM participants p2
        WHERE p2.dialogue_id = participants.dialogue_id AND p2.email_key = participants.email_key
          AND p2.id < participants.id);
UPDATE participants SET duplicate_of = COALESCE(duplicate_of, (
        SELECT p2.id FROM participants p2
        WHERE p2.dialogue_id = participants.dialogue_id AND p2.name_phone_key = participants.name_phone_key
          AND p2.id < participants.id ORDER BY p2.id LIMIT 1)),
    name_phone_key = NULL
WHERE name_phone_key IS NOT NULL AND EXISTS (
        SELECT 1 FROM participants p2
        WHERE p2.dialogue_id = participants.dialogue_id AND p2.name_phone_key = participants.name_phone_key
          AND p2.id < participants.id);

CREATE UNIQUE INDEX participants_email_key ON participants (dialogue_id, email_key);
CREATE UNIQUE INDEX participants_name_phone_key ON participants (dialogue_id, name_phone_key);
