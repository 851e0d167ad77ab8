-- Rasa's tracker store (the conversations' events) in its own database, owned by the same
-- role; run once by the postgres image on an empty data folder.
CREATE DATABASE rasa_tracker OWNER welcome;
