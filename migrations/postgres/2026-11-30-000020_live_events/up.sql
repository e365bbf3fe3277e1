-- The live stream's replay log: what a phone or the projector missed while its connection
-- dropped is sent again from here (Last-Event-ID). `seq` counts per dialogue and is taken
-- under the dialogue's lock, so its order is the order in which the events committed, on
-- every instance.
CREATE TABLE live_events (
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (dialogue_id, seq)
);
